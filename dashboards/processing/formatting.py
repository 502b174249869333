"""How figures read on every page: money, percentages, ratios, headline figures."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Kpi:
    """A headline figure as a page shows it (see :func:`dashboards.ui.kpi_row`)."""

    label: str
    value: str
    delta: str | None
    delta_color: str  # normal: up is good; inverse: up is bad
    help: str


def money(value: float | None) -> str:
    """An amount, short: 1234567 → '1.23M'.

    Amounts are in the CRM's currency, which the data does not name.

    Args:
        value: the amount; None or NaN for none.

    Returns:
        Three significant digits with k, M or B; '–' for none.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{sign}{value / limit:.3g}{suffix}"
    return f"{sign}{value:,.0f}"


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage: 0.1234 → '12.3%'.

    Args:
        value: the share; None or NaN for none.
        digits: decimals shown.

    Returns:
        The percentage; '–' for none.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}%}"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is missing or the denominator is 0.

    Args:
        numerator: the part.
        denominator: the whole.

    Returns:
        The ratio, or None when either is missing or the denominator is 0.
    """
    if not denominator or numerator is None:
        return None
    return numerator / denominator
