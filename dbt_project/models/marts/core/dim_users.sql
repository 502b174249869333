{#- One row per CRM user with their team, the team's region and the team's manager. -#}

with users as (

    select * from {{ ref('stg_crm__users') }}

),

teams as (

    select * from {{ ref('stg_crm__teams') }}

),

final as (

    select
        users.user_id,
        users.name,
        users.email,
        users.role,
        users.active,
        users.hourly_cost,
        users.team_id,
        teams.name as team_name,
        teams.region,
        -- Only a manager who is a known user, so the key holds inside this table.
        managers.user_id as manager_user_id,
        managers.name as manager_name
    from users
    left join teams
        on users.team_id = teams.team_id
    left join users as managers
        on teams.manager_user_id = managers.user_id

)

select * from final
