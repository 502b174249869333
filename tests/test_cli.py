"""The command line, as a user runs it: clear output, clear errors, no stack traces."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli import main


def test_help_lists_the_commands():
    out = CliRunner().invoke(main, ["--help"]).output
    for command in ("generate", "ingest", "status", "run", "demo", "forecast"):
        assert command in out


def test_generate_ingest_status(tmp_path: Path, crmlens_home: Path):
    runner = CliRunner()
    data = tmp_path / "crm"
    result = runner.invoke(main, ["generate", "--scale", "tiny", "--seed", "3", "--out", str(data)])
    assert result.exit_code == 0, result.output
    assert (data / "source_spec.yml").exists()
    assert json.loads((data / "ground_truth.json").read_text())["seed"] == 3

    result = runner.invoke(main, ["ingest", "--spec", str(data / "source_spec.yml")])
    assert result.exit_code == 0, result.output
    assert "reconciled:" in result.output and "events" in result.output

    result = runner.invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "invalid_email" in result.output


def test_a_bad_spec_is_one_line_not_a_stack_trace(tmp_path: Path, crmlens_home: Path):
    spec = tmp_path / "bad.yml"
    spec.write_text("name: bad\nfiles: {}\ntables:\n  deals: {select: select 1}\n")
    result = CliRunner().invoke(main, ["ingest", "--spec", str(spec)])
    assert result.exit_code == 1
    assert "'deals': not a canonical table" in result.output
    assert "Traceback" not in result.output


def test_status_before_any_load_says_what_to_do(crmlens_home: Path):
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 1 and "run `crmlens ingest`" in result.output


def test_bad_days_option(tmp_path: Path, crmlens_home: Path):
    result = CliRunner().invoke(main, ["ingest", "--days", "yesterday"])
    assert result.exit_code != 0 and "FROM:TO" in result.output


def test_a_family_without_labelled_rows_says_so_instead_of_a_nan_rate() -> None:
    from cli.summary import _path_text

    empty = _path_text({"path": "no_reliable_signal", "base_rate": float("nan")})
    assert "nan" not in empty and "no labelled rows yet" in empty
    assert _path_text({"path": "no_reliable_signal", "base_rate": 0.117}).endswith(
        "base rate 11.7%"
    )
