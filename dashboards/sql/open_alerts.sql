-- Alerts of the latest day and of the $days before it, the newest per kind and entity.
-- Business alerts are dated by the data's today (their latest day is the latest
-- evaluation); the pipeline's own ($system kinds) by the wall clock's ($today). The owner
-- filter applies to business alerts only: the pipeline's have no owner and always show.
with alerts as (
    select
        a.*,
        list_contains($system::varchar[], a.kind) as is_system
    from ops.alerts as a
),

dated as (
    select
        *,
        case
            when is_system then $today::date
            else max(raised_on) filter (where not is_system) over ()
        end as latest_day
    from alerts
)

select
    d.alert_id,
    d.kind,
    d.severity,
    d.title,
    d.detail,
    d.entity_type,
    d.entity_id,
    d.owner_user_id,
    d.raised_on,
    d.first_seen_at,
    d.last_seen_at,
    coalesce(u.name, d.owner_user_id) as owner,
    d.raised_on >= d.latest_day as latest
from dated as d
left join marts.dim_users as u on d.owner_user_id = u.user_id
where
    d.raised_on > d.latest_day - to_days($days)
    and (d.is_system or (not $by_owner or list_contains($owners::varchar[], d.owner_user_id)))
qualify
    row_number() over (
        partition by d.kind, coalesce(d.entity_id, d.alert_id)
        order by d.raised_on desc, d.last_seen_at desc
    ) = 1
order by d.raised_on desc, d.severity = 'high' desc, d.kind asc, d.title asc
