"""SQL that Python runs lives in ``.sql`` files beside the code that runs it.

Each package that runs SQL keeps it in a ``sql/`` folder (``features/sql/lead_snapshots.sql``),
where sqlfluff lints it like the dbt models (``tests/test_sql_lint.py``). Parameters are
DuckDB's named ones (``$today``), bound at execution, never formatted into the text. Where
the *shape* of a query is generated (a column per event type and window), the file marks
the place with ``/* fragment: name */`` and :func:`fill_fragments` puts the text there.
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


def fill_fragments(text: str, **fragments: str) -> str:
    """A query from a ``.sql`` file with its generated parts filled in.

    A file marks each generated part with a comment, ``/* fragment: name */``, where the
    text goes (a select list that depends on the CRM's custom attributes or on a list of
    windows); the file stays valid SQL, and lintable, without them. Values are never
    fragments: they are bound as ``$name`` parameters.

    Args:
        text: The query text, e.g. ``load("features", "lead_features")``.
        **fragments: Name -> SQL text to put in place of its marker.

    Returns:
        The query with every marker replaced.

    Raises:
        KeyError: A fragment has no marker in the query.
    """
    for name, fragment in fragments.items():
        marker = f"/* fragment: {name} */"
        if marker not in text:
            raise KeyError(f"no {marker} in the query")
        text = text.replace(marker, fragment)
    return text
