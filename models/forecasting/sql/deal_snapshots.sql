-- Deals open at each snapshot date of _snapshots (midnight), with stage, amount and expected
-- close date as the stage history had them then (else the mart's current values; the
-- stage of a deal that closed since is then unknown), the product line and the deal's
-- eventual outcome (closed_at, is_won).
with history as (
    select
        opportunity_id,
        changed_at,
        to_stage,
        expected_close_date,
        last_value(amount ignore nulls) over (
            partition by opportunity_id order by changed_at
            rows between unbounded preceding and current row
        ) as amount
    from staging.stg_crm__opportunity_stage_history
),

open_at as (
    select
        s.snapshot,
        o.opportunity_id,
        o.stage,
        o.amount,
        o.expected_close_date,
        o.product_line,
        o.closed_at,
        o.is_won,
        cast(s.snapshot as timestamp) as snapshot_at
    from _snapshots as s
    inner join marts.fct_opportunities as o
        on cast(s.snapshot as timestamp) > o.created_at
        and (o.closed_at is null or cast(s.snapshot as timestamp) <= o.closed_at)
)

-- the order of these columns is the table's
select  -- noqa: ST06
    open_at.snapshot,
    open_at.opportunity_id,
    coalesce(
        history.to_stage, case when open_at.closed_at is null then open_at.stage end
    ) as stage,  -- noqa: RF04
    coalesce(history.amount, open_at.amount) as amount,
    coalesce(history.expected_close_date, open_at.expected_close_date)
        as expected_close_date,
    open_at.product_line,
    open_at.closed_at,
    open_at.is_won
from open_at
asof left join history
    on open_at.opportunity_id = history.opportunity_id
    and open_at.snapshot_at > history.changed_at
order by open_at.snapshot, open_at.opportunity_id
