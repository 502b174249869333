-- One row per open-lead snapshot whose label is observed: lead_id, as_of, snapshot_age_days,
-- label (converted within the horizon) and label_known_at.
with ages as (
    select unnest(cast($ages as integer[])) as age
),

snaps as (
    select
        l.lead_id,
        a.age as snapshot_age_days,
        l.converted_at,
        l.disqualified_at,
        l.created_at + to_days(a.age) as as_of
    from staging.stg_crm__leads as l
    cross join ages as a
)

select
    lead_id,
    as_of,
    snapshot_age_days,
    cast(
        converted_at is not null
        and converted_at >= as_of
        and converted_at < as_of + to_days($horizon_days) as integer
    ) as label,  -- noqa: RF04
    -- when the outcome was settled: a conversion or a disqualification inside the
    -- horizon settles it then, otherwise the horizon's end does
    least(
        case when converted_at < as_of + to_days($horizon_days) then converted_at end,
        case when disqualified_at < as_of + to_days($horizon_days) then disqualified_at end,
        as_of + to_days($horizon_days)
    ) as label_known_at
from snaps
where
    as_of + to_days($horizon_days) <= $today
    and (converted_at is null or converted_at >= as_of)
    and (disqualified_at is null or disqualified_at >= as_of)
order by as_of, lead_id
