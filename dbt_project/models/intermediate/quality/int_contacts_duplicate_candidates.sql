{#- Pairs of loaded contacts that may be the same person, one row per pair and rule
    that matched, contact_id_a < contact_id_b:

    same_email             equal e-mail addresses (staging lower-cases and trims them),
                           at any account (score 1.0)
    same_email_local_part  at the same account, equal local parts ignoring dots and a
                           "+tag": john.smith@x / johnsmith@x (score 0.9)
    same_name_initial      at the same account, equal last names and first names
                           that agree after normalize_text: equal, or one is only
                           the initial of the other ("J. Smith" / "John Smith")
                           (score 0.7). Two different first names with the same
                           initial (John and Jane Smith) are not paired: on the small
                           synthetic CRM that looser rule added 78 false pairs to
                           204 true ones. -#}

with contacts as (

    select
        contact_id,
        account_id,
        email,
        {{ dq_email_local_key('email') }} as email_local_key,
        {{ normalize_text('last_name') }} as last_name_key,
        replace({{ normalize_text('first_name') }}, ' ', '') as first_name_key
    from {{ ref('stg_crm__contacts') }}

),

same_email as (

    select
        a.contact_id as contact_id_a,
        b.contact_id as contact_id_b,
        'same_email' as match_rule,
        1.0 as score
    from contacts as a
    inner join contacts as b
        on a.email = b.email
        and a.contact_id < b.contact_id

),

same_email_local_part as (

    select
        a.contact_id as contact_id_a,
        b.contact_id as contact_id_b,
        'same_email_local_part' as match_rule,
        0.9 as score
    from contacts as a
    inner join contacts as b
        on a.account_id = b.account_id
        and a.email_local_key = b.email_local_key
        and a.contact_id < b.contact_id

),

same_name_initial as (

    select
        a.contact_id as contact_id_a,
        b.contact_id as contact_id_b,
        'same_name_initial' as match_rule,
        0.7 as score
    from contacts as a
    inner join contacts as b
        on a.account_id = b.account_id
        and a.last_name_key = b.last_name_key
        and substr(a.first_name_key, 1, 1) = substr(b.first_name_key, 1, 1)
        and a.contact_id < b.contact_id
    where
        a.last_name_key <> ''
        and a.first_name_key <> ''
        and (
            a.first_name_key = b.first_name_key
            or length(a.first_name_key) = 1
            or length(b.first_name_key) = 1
        )

),

final as (

    select * from same_email
    union all
    select * from same_email_local_part
    union all
    select * from same_name_initial

)

select * from final
