-- One row per deal whose outcome is settled by $today (labels mode one_outcome_per_row):
-- opportunity_id, as_of (its creation), label (1 won, 0 lost) and label_known_at (when it
-- closed; a deal closed without a date is known by $today at the latest). A deal still
-- open, or closed on or after $today, is not settled.
select
    opportunity_id,
    created_at as as_of,
    cast(is_won as integer) as label,  -- noqa: RF04
    least(coalesce(closed_at, $today), $today) as label_known_at
from staging.stg_crm__opportunities
where
    created_at < $today
    and is_won is not null
    and (closed_at is null or closed_at < $today)
order by as_of, opportunity_id
