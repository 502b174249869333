"""Series a spec defines (`series:`): read, checked, forecast by `crmlens forecast --spec`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from crmlens.sources.spec import SpecError, load_spec
from models.forecasting import spec_series

CRMLENS = Path(sys.executable).parent / "crmlens"
START = date(2024, 1, 1)  # a Monday
WEEK = (100.0, 120.0, 130.0, 125.0, 160.0, 220.0, 80.0)  # Monday .. Sunday


def crmlens(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"CRMLENS_HOME": str(cwd / "home"), "COLUMNS": "200"}
    for name in ("CRMLENS_WAREHOUSE_PATH", "CRMLENS_SOURCE_SPEC"):
        env.pop(name, None)
    return subprocess.run(
        [str(CRMLENS), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def write_sales(folder: Path, days: int = 140, skip: range = range(0), stores=("",)) -> None:
    """Daily sales with a weekly pattern, a slow trend and noise; ``skip``: days left out."""
    rng = np.random.default_rng(7)
    lines = ["day,amount,store"]
    for i in range(days):
        if i in skip:
            continue
        day = START + timedelta(days=i)
        for n, store in enumerate(stores):
            value = WEEK[day.weekday()] * (1 + 0.002 * i) / (n + 1) + rng.normal(0, 5)
            lines.append(f"{day},{value:.2f},{store}")
    (folder / "sales.csv").write_text("\n".join(lines) + "\n")


def write_spec(folder: Path, section: str) -> Path:
    path = folder / "spec.yml"
    path.write_text(f"name: shop\nfiles:\n  sales: {{path: sales.csv}}\nseries:\n{section}")
    return path


DAILY = """  daily_sales:
    select: select day as date, amount as value from sales
    grain: day
"""


def test_daily_sales_are_forecast_through_the_command(tmp_path: Path):
    write_sales(tmp_path)
    write_spec(tmp_path, DAILY)
    done = crmlens(tmp_path, "forecast", "--spec", "spec.yml")
    assert done.returncode == 0, done.stderr
    assert "daily_sales" in done.stdout and "seasonal naive, m=7" in done.stdout
    assert "28 days after 2024-05-19" in done.stdout  # 140 days from Monday 1 January
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql("from ml.series_forecast order by period").pl()
    assert rows.height == 28 and rows["horizon"].to_list() == list(range(1, 29))
    assert rows["period"][0] == date(2024, 5, 20) and set(rows["segment"]) == {"all"}
    assert (rows["lo80"] <= rows["point"]).all() and (rows["point"] <= rows["hi80"]).all()
    # the weekly pattern carries into the forecast: Saturdays above Sundays
    by_day = {p.weekday(): v for p, v in zip(rows["period"][:7], rows["point"][:7], strict=True)}
    assert by_day[5] > by_day[0] > by_day[6]
    # the backtest chose a method no worse than seasonal naive
    assert rows["backtest_mase"][0] <= rows["seasonal_naive_mase"][0]


def test_missing_days_under_gap_are_refused_in_one_line(tmp_path: Path):
    write_sales(tmp_path, skip=range(40, 99))  # 59 days without sales
    write_spec(tmp_path, DAILY)
    done = crmlens(tmp_path, "forecast", "--spec", "spec.yml")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "series 'daily_sales'" in lines[0] and "column 'date'" in lines[0]
    assert "59 day(s) have no rows, the first 2024-02-10" in lines[0]
    assert "missing: zero" in lines[0]


def test_missing_days_under_zero_are_forecast(tmp_path: Path):
    write_sales(tmp_path, skip=range(40, 99))
    spec = load_spec(write_spec(tmp_path, DAILY + "    missing: zero\n"))
    made = spec_series.forecast_spec(spec, n_jobs=1)
    assert made.problems == {}
    (result,) = made.results
    assert len(result.periods) == 140 and (result.values[40:99] == 0).all()
    assert made.frame.height == 28


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("  s:\n    select: select amount as value from sales\n    grain: day\n", "no `date`"),
        (
            "  s:\n    select: select day as date, store as value from sales\n    grain: day\n",
            "column 'value'",
        ),
        (
            "  s:\n    select: select day as date, amount as value from sales\n    grain: day\n"
            "    segments: [region]\n",
            "no `region` column",
        ),
    ],
)
def test_bad_rows_are_one_line_naming_spec_series_and_column(
    tmp_path: Path, section: str, expected: str
):
    write_sales(tmp_path, stores=("north",))
    spec = load_spec(write_spec(tmp_path, section))
    made = spec_series.forecast_spec(spec, n_jobs=1)
    assert list(made.problems) == ["s"] and not made.results
    line = made.problems["s"]
    assert "\n" not in line and "source spec 'shop'" in line and "series 's'" in line
    assert expected in line


def test_too_short_and_nan_are_one_line(tmp_path: Path):
    write_sales(tmp_path, days=10)
    made = spec_series.forecast_spec(load_spec(write_spec(tmp_path, DAILY)), n_jobs=1)
    assert "too short: 10 day(s), fewer than the 14" in made.problems["daily_sales"]
    section = DAILY.replace(
        "amount as value",
        "case when day = '2024-01-03' then 'nan'::double else amount::double end as value",
    )
    write_sales(tmp_path)
    made = spec_series.forecast_spec(load_spec(write_spec(tmp_path, section)), n_jobs=1)
    assert (
        "1 row(s) lack a value (null or NaN), the first on 2024-01-03"
        in made.problems["daily_sales"]
    )


def test_a_bad_spec_section_is_one_line(tmp_path: Path):
    write_sales(tmp_path)
    write_spec(tmp_path, DAILY.replace("grain: day", "grain: hourly"))
    done = crmlens(tmp_path, "forecast", "--spec", "spec.yml")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "series.daily_sales.grain" in done.stderr
    with pytest.raises(
        SpecError, match=r"series 'x': .*'nowhere', which is not one of the spec's files"
    ):
        load_spec(write_spec(tmp_path, "  x:\n    select: select * from nowhere\n    grain: day\n"))


def test_segments_get_one_forecast_each(tmp_path: Path):
    write_sales(tmp_path, days=7 * 40, stores=("north", "south"))
    section = (
        "  by_store:\n    select: select day as date, amount as value, store from sales\n"
        "    grain: week\n    segments: [store]\n"
    )
    made = spec_series.forecast_spec(load_spec(write_spec(tmp_path, section)), n_jobs=1)
    assert made.problems == {}
    assert [r.key.segment for r in made.results] == ["north", "south"]
    assert made.frame.group_by("segment").len().sort("segment").rows() == [
        ("north", 13),
        ("south", 13),
    ]
    # weeks of seven days: north sells about twice what south does
    north, south = (r.values.mean() for r in made.results)
    assert 1.8 < north / south < 2.2


def test_the_forecast_job_has_an_asset_per_series_set(tmp_path: Path):
    from dagster import materialize

    from pipelines.forecast.series_assets import build_series_assets, series_names
    from pipelines.resources import CrmlensResource

    write_sales(tmp_path)
    spec = write_spec(tmp_path, DAILY + DAILY.replace("daily_sales", "again"))
    resource = CrmlensResource(home=str(tmp_path / "home"), source_spec=str(spec))
    assets = build_series_assets(series_names(resource.settings()))
    keys = [k.to_user_string() for a in assets for k in a.keys]
    assert keys == ["forecast/series_daily_sales", "forecast/series_again"]
    (tmp_path / "home").mkdir()
    done = materialize(assets[:1], resources={"crmlens": resource})
    assert done.success
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from ml.series_forecast").fetchall() == [(28,)]
