-- One row per open-lead snapshot whose label is observed: lead_id, as_of, snapshot_age_days,
-- label (converted within the horizon) and label_known_at. A lead converts at converted_at;
-- a lead whose status is one of $converted and that has no conversion date converts when
-- it was last updated (an empty $converted: only dates count).
with ages as (
    select unnest(cast($ages as integer[])) as age
),

snaps as (
    select
        l.lead_id,
        a.age as snapshot_age_days,
        l.disqualified_at,
        l.created_at + to_days(a.age) as as_of,
        coalesce(
            l.converted_at,
            case
                when list_contains(cast($converted as varchar[]), l.status)  -- noqa: RF02
                    then l.updated_at
            end
        ) as converted_at
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
