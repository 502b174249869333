-- Returns active reps who own open deals and logged no activity in the last
-- activity_gap_days days.
with params as (
    select
        $today as today,
        $activity_gap_days as activity_gap_days
),

owners as (
    select
        owner_user_id as user_id,
        count(*) as open_deals
    from marts.fct_opportunities
    where is_open
    group by 1
),

recent as (
    select distinct a.user_id
    from staging.stg_crm__activities as a
    cross join params
    where
        a.occurred_at >= params.today - interval (params.activity_gap_days) day
        and a.occurred_at < params.today
)

select
    'user' as entity_type,
    u.user_id as entity_id,
    u.user_id as owner_user_id,
    'No activity for '
    || params.activity_gap_days
    || ' days: '
    || coalesce(u.name, u.user_id) as title,
    o.open_deals || ' open deals without a logged call, meeting or e-mail' as detail
from marts.dim_users as u
inner join owners as o on u.user_id = o.user_id
cross join params
where u.active and u.user_id not in (select r.user_id from recent as r)
