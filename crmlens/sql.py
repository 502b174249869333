"""SQL that Python runs lives in ``.sql`` files beside the code that runs it.

Each package that runs SQL keeps it in a ``sql/`` folder (``features/sql/lead_snapshots.sql``),
where sqlfluff lints it like the dbt models (``tests/test_sql_lint.py``). Parameters are
DuckDB's named ones (``$today``), bound at execution, never formatted into the text.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(package: str, name: str) -> str:
    """The text of ``<package>/sql/<name>.sql``.

    Args:
        package: the importable package that owns the file, e.g. ``"features"``.
        name: the file name without ``.sql``.

    Returns:
        The SQL text, read once per process.
    """
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
