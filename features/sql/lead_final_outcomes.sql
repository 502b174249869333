-- One row per lead whose final outcome is settled by $today (labels mode
-- one_outcome_per_row): lead_id, as_of (its creation), snapshot_age_days (0), label
-- (1: converted) and label_known_at. A lead is settled when it converted (a conversion
-- date before $today, or no date and a status in $converted), was disqualified (a date
-- before $today, or no date and the status `disqualified`), or stayed open for
-- $horizon_days (a lead not converted by then counts as not converted). A status without
-- a date is known by $today at the latest.
with outcomes as (
    select
        lead_id,
        created_at as as_of,
        created_at + to_days($horizon_days) as horizon_end,
        case when converted_at < $today then converted_at end as converted_at,
        case when disqualified_at < $today then disqualified_at end as disqualified_at,
        coalesce(converted_at < $today, false)
        or (
            converted_at is null
            and list_contains(cast($converted as varchar[]), status)
        ) as converted,
        coalesce(disqualified_at < $today, false)
        or (disqualified_at is null and status = 'disqualified') as disqualified
    from staging.stg_crm__leads
    where created_at < $today
)

select
    lead_id,
    as_of,
    0 as snapshot_age_days,
    cast(converted as integer) as label,  -- noqa: RF04
    least(
        case
            when converted then coalesce(converted_at, horizon_end)
            when disqualified then coalesce(disqualified_at, horizon_end)
            else horizon_end
        end,
        cast($today as timestamp)
    ) as label_known_at
from outcomes
where converted or disqualified or horizon_end <= $today
order by as_of, lead_id
