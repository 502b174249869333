{#- When reps work: activities per rep, ISO weekday (1 = Monday .. 7 = Sunday) and hour of
    day (0-23) of occurred_at, in UTC as stored. Only cells with activities have rows. -#}

with activities as (

    select
        activity_id,
        user_id,
        occurred_at,
        duration_minutes
    from {{ ref('stg_crm__activities') }}
    where user_id is not null

),

cells as (

    select
        user_id,
        cast({{ iso_weekday('occurred_at') }} as integer) as weekday,
        cast({{ hour_of('occurred_at') }} as integer) as hour,
        duration_minutes
    from activities

),

final as (

    select
        user_id,
        weekday,
        hour,
        count(*) as activities,
        coalesce(sum(duration_minutes), 0) / 60.0 as hours
    from cells
    group by
        user_id,
        weekday,
        hour

)

select * from final
