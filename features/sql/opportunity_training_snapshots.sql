-- One row per open-deal snapshot whose outcome is observed: opportunity_id, as_of (every
-- $every_days days at midnight), label (1 won, 0 lost within the horizon), label_known_at.
with bounds as (
    select date_trunc('day', min(created_at)) + interval 1 day as first_as_of
    from staging.stg_crm__opportunities
),

dates as (
    select
        unnest(generate_series(
            first_as_of,
            cast($today as timestamp) - to_days($horizon_days),
            to_days($every_days)
        )) as as_of
    from bounds
)

select
    o.opportunity_id,
    d.as_of,
    cast(o.is_won as integer) as label,  -- noqa: RF04
    o.closed_at as label_known_at
from dates as d
inner join staging.stg_crm__opportunities as o
    on d.as_of > o.created_at and (o.closed_at is null or d.as_of <= o.closed_at)
where
    o.closed_at < d.as_of + to_days($horizon_days)  -- noqa: RF02
    and o.is_won is not null
order by d.as_of, o.opportunity_id
