"""Every SQL statement the dashboards run, parameterized, cached by :func:`data.query`.

Values (dates, owners, segments, search text…) only ever travel as DuckDB
parameters (``$name``). The only text put together here is the choice among
column names written in this module, never anything a user typed.

The filters' parameters (:meth:`dashboards.filters.Filters.params`):

- ``$start``, ``$end`` (dates, inclusive) and ``$end_excl`` (the day after ``$end``);
- ``$by_owner`` / ``$owners``: when true, only rows owned by one of the users in the list
  (the chosen owners, else everyone in the chosen teams);
- ``$by_segment`` / ``$segments``: when true, only accounts of one of these tiers;
- ``$as_of``: the data's today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from dashboards.data import DataUnavailable, query

STAGES = ("prospecting", "qualification", "needs_analysis", "proposal", "negotiation")
FAMILIES = {
    "lead_scoring": "Lead scoring",
    "deal_scoring": "Deal scoring",
    "churn": "Churn",
}
# Alerts the pipeline raises about itself: no owner, dated by the wall clock.
SYSTEM_ALERTS = ("pipeline_failure", "scores_blocked")
# The checks' thresholds when a check's detail does not record them: the pipeline's
# defaults (crmlens.settings drift_warn_psi / drift_block_psi; MAX_ECE of the checks).
DRIFT_WARN_PSI = 0.10
DRIFT_BLOCK_PSI = 0.25
MAX_ECE = 0.05
# Score history table per model family (identifiers cannot be parameters).
_HISTORY_TABLE = {
    "lead_scoring": "publish.lead_scores_history",
    "deal_scoring": "publish.opportunity_scores_history",
    "churn": "publish.churn_scores_history",
}


def _owner(column: str) -> str:
    return f"(not $by_owner or list_contains($owners::varchar[], {column}))"


def _segment(column: str) -> str:
    return f"(not $by_segment or list_contains($segments::varchar[], {column}))"


# ---------------------------------------------------------------------------- common


def data_today() -> date:
    """The data's "today" (the marts' as-of date); the wall clock's without data."""
    try:
        frame = query("select max(as_of_date) as d from intermediate.int_sales_as_of")
    except DataUnavailable:
        return date.today()
    value = frame["d"][0] if frame.height else None
    return value or date.today()


def users() -> pl.DataFrame:
    """Users that can own things, with a label for the filters."""
    return query(
        """
        select user_id, coalesce(name, user_id) as label, team_name, role
        from marts.dim_users
        order by label
        """
    )


# -------------------------------------------------------------------------- overview

_OPPS = f"""
    select o.*, a.tier
    from marts.fct_opportunities as o
    left join marts.dim_accounts as a on o.account_id = a.account_id
    where {_owner("o.owner_user_id")} and {_segment("a.tier")}
"""


def kpis(params: dict) -> dict:
    """Headline figures of one period (see the Overview page for their definitions)."""
    frame = query(
        f"""
        with opps as ({_OPPS}),
        mrr as (
            select m.*
            from marts.fct_mrr_movements as m
            join marts.dim_accounts as a on m.account_id = a.account_id
            where {_owner("a.owner_user_id")} and {_segment("a.tier")}
        ),
        leads as (
            select l.*
            from marts.fct_leads as l
            left join marts.dim_accounts as a on l.account_id = a.account_id
            where {_owner("l.owner_user_id")} and {_segment("a.tier")}
              and l.created_at >= $start and l.created_at < $end_excl
        )
        select
            (select coalesce(sum(amount), 0) from opps
              where created_at < $end_excl and (is_open or closed_at >= $end_excl))::double
                as open_pipeline,
            (select coalesce(sum(amount), 0) from opps
              where is_won and closed_at >= $start and closed_at < $end_excl)::double
                as bookings,
            (select count(*) filter (where is_won) from opps
              where closed_at >= $start and closed_at < $end_excl) as won_deals,
            (select count(*) from opps
              where is_closed and closed_at >= $start and closed_at < $end_excl) as closed_deals,
            (select coalesce(sum(mrr_end), 0) from mrr
              where month = date_trunc('month', $end::date))::double as mrr,
            (select coalesce(sum(mrr_start), 0) from mrr
              where month = date_trunc('month', $start::date))::double as mrr_at_start,
            (select coalesce(sum(churned_mrr), 0) from mrr
              where month between date_trunc('month', $start::date)
                and date_trunc('month', $end::date))::double as churned_mrr,
            (select count(*) filter (where movement = 'churn') from mrr
              where month between date_trunc('month', $start::date)
                and date_trunc('month', $end::date)) as churned_customers,
            (select count(*) from leads) as leads,
            (select count(*) filter (where is_converted) from leads) as converted_leads
        """,
        params,
    )
    return frame.row(0, named=True)


def monthly_bookings(params: dict) -> pl.DataFrame:
    """Per month of the period: bookings, deals won and closed."""
    return query(
        f"""
        with opps as ({_OPPS})
        select date_trunc('month', closed_at)::date as month,
               coalesce(sum(amount) filter (where is_won), 0)::double as bookings,
               count(*) filter (where is_won) as won,
               count(*) as closed
        from opps
        where is_closed and closed_at >= $start and closed_at < $end_excl
        group by all order by month
        """,
        params,
    )


def monthly_mrr(params: dict) -> pl.DataFrame:
    """MRR at each month's end in the period."""
    return query(
        f"""
        select m.month::date as month, sum(m.mrr_end)::double as mrr,
               count(*) filter (where m.mrr_end > 0) as customers
        from marts.fct_mrr_movements as m
        join marts.dim_accounts as a on m.account_id = a.account_id
        where {_owner("a.owner_user_id")} and {_segment("a.tier")}
          and m.month between date_trunc('month', $start::date) and $end
        group by all order by month
        """,
        params,
    )


def open_alerts(params: dict, days: int = 7) -> pl.DataFrame:
    """Alerts of the latest day and of the ``days`` up to it, the newest per kind and entity.

    Business alerts are raised on the data's today at each scoring run, so their latest day
    is the latest evaluation; the pipeline's own (a failed step, scores held back) on the
    wall clock's today, which can lie far from the data's (old exports, synthetic data):
    each is windowed on its own calendar. An alert raised again on later days (it still
    holds) is shown once, as raised last. The owner filter applies to business alerts; the
    pipeline's have no owner and always show.
    """
    return query(
        f"""
        with alerts as (
            select a.*, list_contains($system::varchar[], a.kind) as is_system
            from ops.alerts as a
        ),
        dated as (
            select *,
                   case when is_system then $today::date
                        else max(raised_on) filter (where not is_system) over () end
                       as latest_day
            from alerts
        )
        select d.alert_id, d.kind, d.severity, d.title, d.detail, d.entity_type, d.entity_id,
               d.owner_user_id, coalesce(u.name, d.owner_user_id) as owner, d.raised_on,
               d.first_seen_at, d.last_seen_at, d.raised_on >= d.latest_day as latest
        from dated as d
        left join marts.dim_users as u on u.user_id = d.owner_user_id
        where d.raised_on > d.latest_day - to_days($days)
          and (d.is_system or {_owner("d.owner_user_id")})
        qualify row_number() over (
            partition by d.kind, coalesce(d.entity_id, d.alert_id)
            order by d.raised_on desc, d.last_seen_at desc
        ) = 1
        order by d.raised_on desc, d.severity = 'high' desc, d.kind, d.title
        """,
        params | {"days": days, "system": list(SYSTEM_ALERTS), "today": datetime.now(UTC).date()},
    )


# -------------------------------------------------------------------------- pipeline


def open_by_stage(params: dict) -> pl.DataFrame:
    """Open deals now, by stage: count, value, average age."""
    return query(
        f"""
        with opps as ({_OPPS})
        select stage, count(*) as deals, coalesce(sum(amount), 0)::double as amount,
               avg(cycle_days) as avg_age_days
        from opps where is_open
        group by all
        """,
        params,
    )


def stage_funnel(params: dict) -> pl.DataFrame:
    """Deals created in the period: how many reached each stage, and the days spent there.

    A deal reached a stage when it spent time in it (its history) or is now past it;
    days in a stage are averaged over the deals that have left it.
    """
    return query(
        f"""
        with opps as ({_OPPS}),
        stages(stage, stage_order) as (
            values ('prospecting', 1), ('qualification', 2), ('needs_analysis', 3),
                   ('proposal', 4), ('negotiation', 5), ('closed_won', 6)
        ),
        deals as (
            select
                amount,
                days_in_prospecting, days_in_qualification, days_in_needs_analysis,
                days_in_proposal, days_in_negotiation,
                greatest(
                    1,
                    case stage when 'prospecting' then 1 when 'qualification' then 2
                        when 'needs_analysis' then 3 when 'proposal' then 4
                        when 'negotiation' then 5 when 'closed_won' then 6 else 1 end,
                    case when days_in_qualification > 0 then 2 else 0 end,
                    case when days_in_needs_analysis > 0 then 3 else 0 end,
                    case when days_in_proposal > 0 then 4 else 0 end,
                    case when days_in_negotiation > 0 then 5 else 0 end
                ) as reached
            from opps
            where created_at >= $start and created_at < $end_excl
        )
        select
            s.stage, s.stage_order,
            count(d.reached) filter (where d.reached >= s.stage_order) as deals,
            coalesce(sum(d.amount) filter (where d.reached >= s.stage_order), 0)::double
                as amount,
            avg(case s.stage_order
                    when 1 then d.days_in_prospecting when 2 then d.days_in_qualification
                    when 3 then d.days_in_needs_analysis when 4 then d.days_in_proposal
                    when 5 then d.days_in_negotiation end)
                filter (where d.reached > s.stage_order) as avg_days_in_stage
        from stages as s
        left join deals as d on true
        group by all order by s.stage_order
        """,
        params,
    )


def cycle_by_month(params: dict) -> pl.DataFrame:
    """Deals won in the period, by month of closing: cycle length (days created → won)."""
    return query(
        f"""
        with opps as ({_OPPS})
        select date_trunc('month', closed_at)::date as month,
               count(*) as won,
               median(cycle_days) as median_cycle_days,
               avg(cycle_days) as avg_cycle_days
        from opps
        where is_won and closed_at >= $start and closed_at < $end_excl
        group by all order by month
        """,
        params,
    )


def open_deals_aging(params: dict) -> pl.DataFrame:
    """Open deals by age bucket and stage."""
    return query(
        f"""
        with opps as ({_OPPS})
        select stage,
               case when cycle_days <= 30 then '0-30 days'
                    when cycle_days <= 60 then '31-60 days'
                    when cycle_days <= 90 then '61-90 days'
                    when cycle_days <= 180 then '91-180 days'
                    else 'over 180 days' end as age_bucket,
               count(*) as deals,
               coalesce(sum(amount), 0)::double as amount
        from opps where is_open
        group by all
        """,
        params,
    )


def deals_at_risk(params: dict) -> pl.DataFrame:
    """Open deals with their score, grade, risk flags, reasons and next action."""
    return query(
        f"""
        with opps as ({_OPPS})
        select o.opportunity_id, o.name as deal, acc.name as account, u.name as owner,
               o.stage, o.amount::double as amount, o.expected_close_date,
               o.cycle_days as age_days, o.current_stage_days,
               o.days_since_last_activity,
               s.score, s.probability, s.grade, s.band, s.risk_flags, s.reasons,
               s.next_action, s.scoring_path
        from opps as o
        join publish.opportunity_scores as s on s.opportunity_id = o.opportunity_id
        left join marts.dim_accounts as acc on acc.account_id = o.account_id
        left join marts.dim_users as u on u.user_id = o.owner_user_id
        where o.is_open
        order by o.amount desc nulls last, s.score
        """,
        params,
    )


# -------------------------------------------------------------------------- forecast


def forecast_series(metric: str, grain: str, segment_type: str, segment: str) -> pl.DataFrame:
    """The published forecast of one series (one row per period ahead)."""
    return query(
        """
        select period, horizon, point, lo80, hi80, lo95, hi95, method, fallback_reason,
               backtest_mase, backtest_mase_seasonal_naive, backtest_coverage80,
               backtest_coverage95, partial_actual, forecast_origin, published_at
        from ml.revenue_forecast
        where metric = $metric and grain = $grain and segment_type = $segment_type
          and segment = $segment
        order by period
        """,
        {"metric": metric, "grain": grain, "segment_type": segment_type, "segment": segment},
    )


def forecast_segments() -> pl.DataFrame:
    """Which series the forecast publishes."""
    return query(
        """
        select distinct metric, grain, segment_type, segment
        from ml.revenue_forecast where grain <> 'quarter'
        order by all
        """
    )


def forecast_actuals(metric: str, grain: str, segment_type: str, segment: str) -> pl.DataFrame:
    """Actual values of a forecast series, defined as models.forecasting.series does."""
    params = {"metric": metric, "grain": grain, "segment_type": segment_type, "segment": segment}
    if metric == "mrr":
        return query(
            """
            select m.month::date as period, sum(m.mrr_end)::double as actual
            from marts.fct_mrr_movements as m
            left join marts.dim_accounts as a on m.account_id = a.account_id
            left join marts.dim_users as u on a.owner_user_id = u.user_id
            where case $segment_type
                    when 'region' then coalesce(a.region, 'unknown')
                    when 'team' then coalesce(u.team_name, 'unknown')
                    else 'all' end = $segment
            group by all order by period
            """,
            params,
        )
    return query(
        """
        with deals as (
            select case when $metric = 'bookings' then o.closed_at else o.created_at end
                       as stamp,
                   coalesce(o.amount, 0)::double as value,
                   case $segment_type
                       when 'region' then coalesce(a.region, 'unknown')
                       when 'team' then coalesce(u.team_name, 'unknown')
                       when 'product_line' then coalesce(o.product_line, 'unknown')
                       else 'all' end as segment
            from marts.fct_opportunities as o
            left join marts.dim_accounts as a on o.account_id = a.account_id
            left join marts.dim_users as u on o.owner_user_id = u.user_id
            where $metric <> 'bookings' or o.is_won
        )
        select date_trunc($grain, stamp)::date as period, sum(value)::double as actual
        from deals
        where stamp is not null and segment = $segment
        group by all order by period
        """,
        params,
    )


def forecast_scenarios() -> pl.DataFrame:
    """Quarters of total bookings: commit / most likely / best case and what is closed."""
    return query(
        """
        select quarter, quarter_start, horizon, scenario, amount, lo80, hi80, closed_to_date,
               pipeline_weight, description
        from ml.pipeline_forecast
        order by horizon, scenario
        """
    )


def forecast_backtest(metric: str, grain: str, segment_type: str, segment: str) -> pl.DataFrame:
    """Backtest errors by method and horizon for one series."""
    return query(
        """
        select method, horizon, mase, smape, mae, coverage80, coverage95, origins, chosen
        from ml.forecast_backtest
        where metric = $metric and grain = $grain and segment_type = $segment_type
          and segment = $segment
        order by method, horizon
        """,
        {"metric": metric, "grain": grain, "segment_type": segment_type, "segment": segment},
    )


def forecast_accuracy(metric: str, grain: str, segment_type: str, segment: str) -> pl.DataFrame:
    """Past published forecasts of one series whose period is complete, against the actual."""
    return query(
        """
        select published_at, forecast_origin, period, horizon, method, point, lo80, hi80,
               lo95, hi95, actual, error, abs_pct_error, within80, within95
        from ml.forecast_accuracy
        where is_published and metric = $metric and grain = $grain
          and segment_type = $segment_type and segment = $segment
        order by published_at, period
        """,
        {"metric": metric, "grain": grain, "segment_type": segment_type, "segment": segment},
    )


# ----------------------------------------------------------------------------- leads


def lead_options() -> pl.DataFrame:
    """Lead sources present among scored leads."""
    return query(
        """
        select distinct coalesce(l.source, 'unknown') as source
        from publish.lead_scores as s join marts.fct_leads as l using (lead_id)
        order by source
        """
    )


def scored_leads(params: dict, sources: list[str], grades: list[str], search: str) -> pl.DataFrame:
    """Open scored leads with grade, reasons and next action, highest score first.

    ``search`` matches the company, the e-mail or the lead id (case-insensitive, literal).
    """
    return query(
        f"""
        select s.lead_id, coalesce(r.company, acc.name) as company, u.name as owner,
               coalesce(l.source, 'unknown') as source, l.status, l.created_at,
               s.score, s.probability, s.grade, s.band, s.reasons, s.next_action,
               s.scoring_path
        from publish.lead_scores as s
        join marts.fct_leads as l on l.lead_id = s.lead_id
        left join staging.stg_crm__leads as r on r.lead_id = s.lead_id
        left join marts.dim_accounts as acc on acc.account_id = l.account_id
        left join marts.dim_users as u on u.user_id = l.owner_user_id
        where {_owner("l.owner_user_id")} and {_segment("acc.tier")}
          and (len($sources::varchar[]) = 0
               or list_contains($sources::varchar[], coalesce(l.source, 'unknown')))
          and (len($grades::varchar[]) = 0 or list_contains($grades::varchar[], s.grade))
          and ($search = ''
               or contains(lower(coalesce(r.company, acc.name, '')), lower($search))
               or contains(lower(coalesce(r.email, '')), lower($search))
               or contains(lower(s.lead_id), lower($search)))
        order by s.score desc, s.lead_id
        """,
        params | {"sources": sources, "grades": grades, "search": search},
    )


def lead_conversion_by_grade(params: dict, sources: list[str], days: int = 90) -> pl.DataFrame:
    """Leads scored at least ``days`` ago: did they convert within ``days``, by grade?

    Uses each lead's first published score in the period, so a grade is judged on what
    the rep saw before the outcome.
    """
    return query(
        f"""
        with first_scores as (
            select lead_id, arg_min(grade, scored_at) as grade, min(scored_at) as scored_at
            from publish.lead_scores_history
            where scored_at >= $start and scored_at < $end_excl
              and scored_at <= $as_of::timestamp - to_days($days)
            group by lead_id
        )
        select f.grade, count(*) as leads,
               count(*) filter (where l.converted_at >= f.scored_at
                   and l.converted_at < f.scored_at + to_days($days)) as converted
        from first_scores as f
        join marts.fct_leads as l on l.lead_id = f.lead_id
        left join marts.dim_accounts as acc on acc.account_id = l.account_id
        where {_owner("l.owner_user_id")} and {_segment("acc.tier")}
          and (len($sources::varchar[]) = 0
               or list_contains($sources::varchar[], coalesce(l.source, 'unknown')))
        group by all order by grade
        """,
        params | {"sources": sources, "days": days},
    )


def calibration(family: str) -> pl.DataFrame:
    """Test-set calibration deciles of a family's latest training, per candidate model."""
    return query(
        """
        with latest as (
            select max(trained_at) as trained_at from ml.model_calibration where family = $family
        )
        select c.model, c.decile, c.rows, c.mean_predicted, c.observed_rate, c.trained_at,
               coalesce(e.published, false) as published
        from ml.model_calibration as c
        join latest using (trained_at)
        left join (
            select distinct model, trained_at, published from ml.model_evaluations
            where family = $family
        ) as e using (model, trained_at)
        where c.family = $family
        order by c.model, c.decile
        """,
        {"family": family},
    )


# ------------------------------------------------------------------------- customers


def churn_risk(params: dict) -> pl.DataFrame:
    """Scored customers: MRR, churn risk with reasons and next action, next renewal."""
    return query(
        f"""
        with renewals as (
            select account_id, min(renewal_date) as next_renewal
            from staging.stg_crm__subscriptions
            where status in ('active', 'past_due') and renewal_date >= $as_of
            group by account_id
        )
        select s.account_id, a.name as account, a.tier, u.name as owner,
               a.current_mrr::double as mrr, a.customer_since, r.next_renewal,
               100 - s.score as health, s.score as churn_risk, s.probability, s.grade, s.band,
               s.reasons, s.next_action, s.scoring_path
        from publish.churn_scores as s
        join marts.dim_accounts as a on a.account_id = s.account_id
        left join marts.dim_users as u on u.user_id = a.owner_user_id
        left join renewals as r on r.account_id = s.account_id
        where {_owner("a.owner_user_id")} and {_segment("a.tier")}
        order by s.score desc, a.current_mrr desc
        """,
        params,
    )


def renewals(params: dict, days: int = 90) -> pl.DataFrame:
    """Subscriptions renewing within ``days`` of the data's today, with the churn risk."""
    return query(
        f"""
        select sub.subscription_id, sub.account_id, a.name as account, a.tier,
               u.name as owner, sub.plan, sub.seats, sub.mrr::double as mrr,
               sub.renewal_date, s.score as churn_risk, s.band, s.reasons, s.next_action
        from staging.stg_crm__subscriptions as sub
        join marts.dim_accounts as a on a.account_id = sub.account_id
        left join marts.dim_users as u on u.user_id = a.owner_user_id
        left join publish.churn_scores as s on s.account_id = sub.account_id
        where sub.status in ('active', 'past_due')
          and sub.renewal_date >= $as_of and sub.renewal_date < $as_of + to_days($days)
          and {_owner("a.owner_user_id")} and {_segment("a.tier")}
        order by sub.renewal_date, sub.mrr desc
        """,
        params | {"days": days},
    )


def mrr_movements(params: dict) -> pl.DataFrame:
    """MRR movements per month of the period (amounts positive; the page signs them)."""
    return query(
        f"""
        select m.month::date as month,
               sum(m.new_mrr)::double as new,
               sum(m.expansion_mrr)::double as expansion,
               sum(m.reactivation_mrr)::double as reactivation,
               sum(m.contraction_mrr)::double as contraction,
               sum(m.churned_mrr)::double as churn,
               sum(m.mrr_end)::double as mrr_end
        from marts.fct_mrr_movements as m
        join marts.dim_accounts as a on a.account_id = m.account_id
        where {_owner("a.owner_user_id")} and {_segment("a.tier")}
          and m.month between date_trunc('month', $start::date) and $end
        group by all order by month
        """,
        params,
    )


# ------------------------------------------------------------------------- campaigns


def campaigns(params: dict) -> pl.DataFrame:
    """Campaigns started in the period: reach, response, influence, cost."""
    return query(
        """
        select campaign_id, name, channel, cost::double as cost, started_at, ended_at,
               members, responded, response_rate, leads, opportunities, won,
               won_amount::double as won_amount, cost_per_lead
        from marts.fct_campaign_performance
        where started_at >= $start and started_at < $end_excl
        order by started_at
        """,
        params,
    )


def attribution(params: dict) -> pl.DataFrame:
    """Credit per campaign and attribution model, over the deals in scope (owner, segment)."""
    return query(
        f"""
        select c.campaign_id, c.attribution_model,
               sum(c.weight)::double as deals_credited,
               sum(c.attributed_amount)::double as pipeline,
               sum(c.attributed_won_amount)::double as revenue
        from marts.fct_campaign_attribution as c
        join marts.fct_opportunities as o on o.opportunity_id = c.opportunity_id
        left join marts.dim_accounts as a on a.account_id = o.account_id
        join marts.fct_campaign_performance as p on p.campaign_id = c.campaign_id
        where p.started_at >= $start and p.started_at < $end_excl
          and {_owner("o.owner_user_id")} and {_segment("a.tier")}
        group by all
        """,
        params,
    )


# ------------------------------------------------------------------------------ team


def leaderboard(params: dict) -> pl.DataFrame:
    """Per rep over the months of the period: deals, bookings, win rate, activity."""
    return query(
        f"""
        select p.user_id, u.name as rep, u.team_name as team, u.role,
               sum(p.opportunities_closed) as closed, sum(p.won) as won,
               sum(p.won_amount)::double as bookings,
               sum(p.won) / nullif(sum(p.opportunities_closed), 0) as win_rate,
               sum(p.activities) as activities, sum(p.active_days) as active_days,
               sum(p.leads_assigned) as leads_assigned,
               median(p.median_hours_to_first_response) as hours_to_first_response
        from marts.fct_rep_performance as p
        join marts.dim_users as u on u.user_id = p.user_id
        where p.month between date_trunc('month', $start::date) and $end
          and {_owner("p.user_id")}
        group by all
        order by bookings desc, activities desc
        """,
        params,
    )


def activity_heatmap(params: dict) -> pl.DataFrame:
    """Activities by weekday and hour (UTC), over the reps in scope, all history."""
    return query(
        f"""
        select weekday, hour, sum(activities) as activities,
               coalesce(sum(hours), 0)::double as hours
        from marts.fct_activity_heatmap
        where {_owner("user_id")}
        group by all
        """,
        params,
    )


def time_per_client(params: dict, top: int = 15) -> pl.DataFrame:
    """The ``top`` accounts by hours logged in the period, hours split by activity type."""
    return query(
        f"""
        with scoped as (
            select t.*, a.name as account
            from marts.fct_time_per_client as t
            join marts.dim_accounts as a on a.account_id = t.account_id
            where t.month between date_trunc('month', $start::date) and $end
              and {_owner("t.user_id")} and {_segment("a.tier")}
        ),
        top_accounts as (
            select account_id from scoped group by account_id
            order by sum(hours) desc, account_id limit $top
        )
        select s.account_id, coalesce(s.account, s.account_id) as account, s.activity_type,
               sum(s.hours)::double as hours, sum(s.cost)::double as cost,
               sum(s.activities) as activities
        from scoped as s join top_accounts using (account_id)
        group by all
        """,
        params | {"top": top},
    )


def revenue_per_hour(params: dict) -> pl.DataFrame:
    """Accounts with logged time: hours, revenue and revenue per hour (all history)."""
    return query(
        f"""
        select r.account_id, coalesce(r.name, r.account_id) as account,
               coalesce(r.tier, 'unknown') as tier, r.lifecycle,
               r.total_hours as hours, r.total_cost as cost, r.revenue, r.revenue_per_hour
        from marts.fct_account_revenue_per_hour as r
        join marts.dim_accounts as a on a.account_id = r.account_id
        where r.total_hours > 0 and {_owner("a.owner_user_id")} and {_segment("a.tier")}
        order by r.revenue_per_hour desc
        """,
        params,
    )


# ---------------------------------------------------------------------- data quality


def quarantine() -> pl.DataFrame:
    return query(
        """
        select table_name, reason_code, rows, input_rows, share_of_input, sample_reason,
               last_loaded_at
        from marts.dq_quarantine_summary
        order by rows desc
        """
    )


def freshness() -> pl.DataFrame:
    return query(
        """
        select table_name, loaded_at_column, rows, newest_at, hours_since, days_behind_data,
               freshness_status, checked_at
        from marts.dq_freshness
        order by days_behind_data desc nulls first, table_name
        """
    )


def latest_loads() -> pl.DataFrame:
    """The latest load of every table (ops.ingest_log)."""
    return query(
        """
        select table_name, source, started_at, rows_in, rows_loaded, rows_quarantined,
               inserted, updated, seconds
        from ops.ingest_log
        qualify row_number() over (partition by table_name order by started_at desc) = 1
        order by table_name
        """
    )


def duplicates(entities: list[str], min_score: float) -> pl.DataFrame:
    return query(
        """
        select entity, id_a, id_b, label_a, label_b, match_rule, score, matched_rules
        from marts.dq_duplicate_candidates
        where (len($entities::varchar[]) = 0 or list_contains($entities::varchar[], entity))
          and score >= $min_score
        order by score desc, entity, id_a, id_b
        """,
        {"entities": entities, "min_score": min_score},
    )


def null_rates() -> pl.DataFrame:
    return query(
        """
        select table_name, column_name, population, rows, nulls, null_rate
        from marts.dq_null_rates
        where rows > 0
        order by null_rate desc nulls last
        """
    )


# ---------------------------------------------------------------------------- models


def evaluations(family: str) -> pl.DataFrame:
    """Metrics of every candidate of the family's latest training (valid and test)."""
    return query(
        """
        select model, split, published, roc_auc, pr_auc, brier, log_loss, lift_top_decile,
               ece, rows, positive_rate, gate, trained_at, registered_version
        from ml.model_evaluations
        where family = $family
          and trained_at = (select max(trained_at) from ml.model_evaluations
                            where family = $family)
        order by split, model
        """,
        {"family": family},
    )


def evaluation_history(family: str) -> pl.DataFrame:
    """The published model's test metrics at every training."""
    return query(
        """
        select trained_at, model, roc_auc, pr_auc, brier, ece, lift_top_decile, gate
        from ml.model_evaluations
        where family = $family and published and split in ('test', 'none')
        order by trained_at
        """,
        {"family": family},
    )


def score_drift(family: str) -> pl.DataFrame:
    """Per publication of the family's scores: scores in ten bins, grades, the model.

    A publication is a run id; they are ordered by scored_at, then by when they were
    appended to the history (its first row), since one data day may be scored twice.
    """
    table = _HISTORY_TABLE[family]  # one of three constants, never user text
    return query(
        f"""
        select run_id, min(scored_at) as scored_at,
               min(min(rowid)) over (partition by run_id) as first_row,
               any_value(model_name) as model_name, any_value(model_version) as model_version,
               any_value(scoring_path) as scoring_path,
               least(floor(score / 10), 9)::int as bin,
               grade, count(*) as rows, avg(score) as mean_score
        from {table}
        group by run_id, bin, grade
        order by scored_at, run_id, bin
        """
    )


def model_monitoring() -> pl.DataFrame:
    """Every drift and calibration check of every family (ops.model_monitoring), oldest first.

    ``value`` is the score PSI (drift) or the ECE (calibration); ``warn_at`` and ``block_at``
    are the thresholds the check applied (recorded in its detail; the defaults otherwise).
    """
    return query(
        """
        select family, kind, checked_at, run_id, model_version, scoring_path, status, value,
               detail ->> 'reasons' as reasons,
               try_cast(detail ->> 'rows' as bigint) as rows,
               case kind
                   when 'drift' then coalesce(
                       try_cast(detail ->> 'warn_threshold' as double), $drift_warn)
                   when 'calibration' then coalesce(
                       try_cast(detail ->> 'max_ece' as double), $max_ece)
               end as warn_at,
               case kind
                   when 'drift' then coalesce(
                       try_cast(detail ->> 'block_threshold' as double), $drift_block)
               end as block_at
        from ops.model_monitoring
        order by checked_at, family, kind
        """,
        {"drift_warn": DRIFT_WARN_PSI, "drift_block": DRIFT_BLOCK_PSI, "max_ece": MAX_ECE},
    )


def promotions(family: str) -> pl.DataFrame:
    return query(
        """
        select decided_at, promote, reason, challenger_version, champion_version,
               try_cast(challenger_auc as double) as challenger_auc,
               try_cast(champion_auc as double) as champion_auc,
               try_cast(challenger_ece as double) as challenger_ece,
               try_cast(champion_ece as double) as champion_ece,
               auc_margin_required, holdout_rows
        from ml.model_promotions
        where family = $family
        order by decided_at desc
        """,
        {"family": family},
    )


def publishing_model(family: str) -> pl.DataFrame:
    """What publishes the family's scores now (model, version, path), with row counts."""
    table = {
        "lead_scoring": "publish.lead_scores",
        "deal_scoring": "publish.opportunity_scores",
        "churn": "publish.churn_scores",
    }[family]
    return query(
        f"""
        select model_name, model_version, scoring_path, max(scored_at) as scored_at,
               count(*) as rows
        from {table}
        group by all
        """
    )
