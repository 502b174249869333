"""Deal risk: the warning signs a sales manager looks for in a pipeline review, and a
0–100 risk score with its level.

Each flag is a polars expression over the opportunity feature frame, so the flags
of a million deals are computed at once. ``risk_flags()`` gathers the ones that
apply into a JSON list per row (``["no_activity_14d", "single_contact"]``, or
``[]``), the ``risk_flags`` column of the score table.

``risk_score()`` puts the chance of losing and the warning signs on one 0–100 scale:
70 points from the chance of losing (``70 · (1 − win probability)``) and 7.5 points per
flag (four flags: 30), so a deal the model gives 90 % with no warning sign scores 7, and
one at 20 % with every sign scores 86. ``risk_level()`` reads it as high (at least
:data:`HIGH_RISK`), medium (at least :data:`MEDIUM_RISK`) or low; its trend against the
deal's earlier published risk is added with the other trends (:mod:`models.common.routing`).
"""

from __future__ import annotations

import polars as pl

QUIET_DAYS = 14
HIGH_VALUE_AMOUNT = 50_000


def no_activity_14d() -> pl.Expr:
    """Nothing logged on the deal in the last 14 days (a deal younger than that is not flagged)."""
    return (pl.col("deal_age_days") >= QUIET_DAYS) & (pl.col("activities_14d").fill_null(0) == 0)


def stage_over_p75() -> pl.Expr:
    """In its stage longer than three in four deals that left that stage stayed in it."""
    return (pl.col("days_in_stage") > pl.col("stage_p75_days")).fill_null(False)


def close_date_pushed_twice() -> pl.Expr:
    """The expected close date was moved later at least twice."""
    return pl.col("close_date_pushes").fill_null(0) >= 2


def single_contact() -> pl.Expr:
    """At most one person from the buyer involved in a deal at least 14 days old (single-threaded)."""
    return (pl.col("deal_age_days") >= QUIET_DAYS) & (pl.col("stakeholders").fill_null(0) <= 1)


def stalled() -> pl.Expr:
    """Quiet for two weeks, or stuck in its stage."""
    return no_activity_14d() | stage_over_p75()


def high_value() -> pl.Expr:
    """A deal worth at least HIGH_VALUE_AMOUNT (a missing amount is not)."""
    return pl.col("amount").fill_null(0) >= HIGH_VALUE_AMOUNT


FLAGS: dict[str, pl.Expr] = {
    "no_activity_14d": no_activity_14d(),
    "stage_over_p75": stage_over_p75(),
    "close_date_pushed_twice": close_date_pushed_twice(),
    "single_contact": single_contact(),
}


LOSS_POINTS = 70.0
FLAG_POINTS = 7.5
HIGH_RISK, MEDIUM_RISK = 60, 35


def risk_score() -> pl.Expr:
    """0–100: 70 × the chance of losing, plus 7.5 per warning sign."""
    flags = pl.sum_horizontal([flag.cast(pl.Int32) for flag in FLAGS.values()])
    loss = LOSS_POINTS * (1.0 - pl.col("probability").fill_null(0.5))
    return (loss + FLAG_POINTS * flags).clip(0, 100).round(0).cast(pl.Int64)


def risk_level() -> pl.Expr:
    """high / medium / low from the risk score."""
    value = risk_score()
    return (
        pl.when(value >= HIGH_RISK)
        .then(pl.lit("high"))
        .when(value >= MEDIUM_RISK)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def risk_flags() -> pl.Expr:
    """A JSON list of the flags that apply to each row, in a fixed order."""
    named = [pl.when(flag).then(pl.lit(f'"{name}"')) for name, flag in FLAGS.items()]
    listed = pl.concat_str(named, separator=", ", ignore_nulls=True)
    return pl.concat_str([pl.lit("["), listed.fill_null(""), pl.lit("]")])
