"""Style never rots: ruff and sqlfluff pass, the layers hold, modules and functions stay small."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ("crmlens", "features", "models", "pipelines", "cli", "workbench", "dashboards", "bench")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
# A module or function may be longer only where a comment says why, on the line above its
# `def` (or, for a module, at its top): `# size: <why>`.
SIZE_EXCUSE = "# size:"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    "args", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"]
)
def test_ruff(args: list[str]):
    result = _run(str(BIN / "ruff"), *args)
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_never_import_upward():
    """import-linter's contracts (pyproject.toml): core → features → models → pipelines →
    entry points, and dashboards through the core only."""
    result = _run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr


def _sql_files() -> list[str]:
    tracked = _run("git", "ls-files", "*.sql").stdout.split()
    # Not the CRM systems' own DDL (crmlens/systems/*/schema.sql): PostgreSQL in each
    # system's naming (quoted camelCase columns), not crmlens's DuckDB SQL.
    return [p for p in tracked if not p.startswith(("dbt_project/", "crmlens/systems/"))]


def test_sqlfluff_dbt_models():
    """The dbt models and macros, with the Jinja templater (dbt_project/.sqlfluff)."""
    result = _run(
        str(BIN / "sqlfluff"), "lint", "models", "--processes", "2", cwd=ROOT / "dbt_project"
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_sqlfluff_sql_files_python_runs():
    """Every .sql file Python runs (<package>/sql/*.sql), with $named parameters (.sqlfluff)."""
    files = _sql_files()
    assert files, "no .sql files found outside dbt_project"
    result = _run(str(BIN / "sqlfluff"), "lint", "--processes", "2", *files)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def _python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _excused(lines: list[str], lineno: int) -> bool:
    """A `# size:` comment on one of the lines just above line ``lineno`` (1-based)."""
    above = lines[max(0, lineno - 4) : lineno - 1]
    return any(line.strip().startswith(SIZE_EXCUSE) for line in above)


def test_modules_and_functions_stay_small():
    too_long = []
    for path in _python_files():
        text = path.read_text()
        lines = text.splitlines()
        name = path.relative_to(ROOT).as_posix()
        if len(lines) > MAX_MODULE_LINES and not any(
            line.startswith(SIZE_EXCUSE) for line in lines[:30]
        ):
            too_long.append(f"{name}: {len(lines)} lines (module)")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not _excused(lines, start):
                too_long.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "\n".join(too_long)
