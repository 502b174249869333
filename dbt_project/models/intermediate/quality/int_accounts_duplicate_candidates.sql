{#- Pairs of loaded accounts that may be the same company, one row per pair and rule
    that matched (a pair can match both), account_id_a < account_id_b:

    same_domain  equal web domains after dq_domain_key (score 0.9)
    same_name    equal names after dq_company_name_key: case, punctuation, a leading
                 "the" and trailing legal forms (corp, inc, llc, ltd, gmbh...) ignored
                 (score 0.8), unless both accounts have domains and they differ: two
                 "Apex Health Corp" at apexhealth.fr and apexhealth.jp are namesakes,
                 while "ABC Corp" without a domain and "ABC Corporation" at abc.com
                 are a candidate. (Without this exception the rule pairs every
                 namesake: on the small synthetic CRM 265 pairs of which 18 are
                 duplicates.)

    An account and its own parent or child sharing a domain is a hierarchy, not a
    duplicate, and is not paired. -#}

with accounts as (

    select
        account_id,
        parent_account_id,
        {{ dq_domain_key('domain') }} as domain_key,
        {{ dq_company_name_key('name') }} as name_key
    from {{ ref('stg_crm__accounts') }}

),

same_domain as (

    select
        a.account_id as account_id_a,
        b.account_id as account_id_b,
        'same_domain' as match_rule,
        0.9 as score
    from accounts as a
    inner join accounts as b
        on a.domain_key = b.domain_key
        and a.account_id < b.account_id
    where
        coalesce(a.parent_account_id, '') <> b.account_id
        and coalesce(b.parent_account_id, '') <> a.account_id

),

same_name as (

    select
        a.account_id as account_id_a,
        b.account_id as account_id_b,
        'same_name' as match_rule,
        0.8 as score
    from accounts as a
    inner join accounts as b
        on a.name_key = b.name_key
        and a.account_id < b.account_id
    where
        a.name_key <> ''
        and (a.domain_key is null or b.domain_key is null or a.domain_key = b.domain_key)

),

final as (

    select * from same_domain
    union all
    select * from same_name

)

select * from final
