{#- Candidate duplicate records for a person to review: one row per pair of accounts or
    contacts (id_a < id_b) that at least one matching rule of
    int_accounts_duplicate_candidates / int_contacts_duplicate_candidates paired.
    match_rule is the strongest rule that matched and score its score (1.0 same e-mail,
    0.9 same domain or same e-mail local part, 0.8 same company name, 0.7 same last name
    and initial); matched_rules lists every rule that matched. label_a / label_b show
    the records (name, or name and e-mail). -#}

with account_pairs as (

    select
        'account' as entity,
        account_id_a as id_a,
        account_id_b as id_b,
        match_rule,
        score
    from {{ ref('int_accounts_duplicate_candidates') }}

),

contact_pairs as (

    select
        'contact' as entity,
        contact_id_a as id_a,
        contact_id_b as id_b,
        match_rule,
        score
    from {{ ref('int_contacts_duplicate_candidates') }}

),

accounts as (

    select
        account_id as id,
        name as label
    from {{ ref('stg_crm__accounts') }}

),

contacts as (

    select
        contact_id as id,
        trim(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))
        || coalesce(' <' || email || '>', '') as label
    from {{ ref('stg_crm__contacts') }}

),

pairs as (

    select * from account_pairs
    union all
    select * from contact_pairs

),

ranked as (

    select
        entity,
        id_a,
        id_b,
        match_rule,
        score,
        row_number() over (
            partition by entity, id_a, id_b
            order by score desc, match_rule asc
        ) as rule_rank
    from pairs

),

summarized as (

    select
        entity,
        id_a,
        id_b,
        max(case when rule_rank = 1 then match_rule end) as match_rule,
        max(score) as score,
        count(*) as rules_matched,
        {{ dbt.listagg('match_rule', "', '", 'order by match_rule') }} as matched_rules
    from ranked
    group by
        entity,
        id_a,
        id_b

),

labels as (

    select
        'account' as entity,
        id,
        label
    from accounts
    union all
    select
        'contact' as entity,
        id,
        label
    from contacts

),

final as (

    select
        summarized.entity,
        summarized.id_a,
        summarized.id_b,
        summarized.match_rule,
        cast(summarized.score as {{ rev_double() }}) as score,
        summarized.rules_matched,
        summarized.matched_rules,
        labels_a.label as label_a,
        labels_b.label as label_b
    from summarized
    left join labels as labels_a
        on summarized.entity = labels_a.entity
        and summarized.id_a = labels_a.id
    left join labels as labels_b
        on summarized.entity = labels_b.entity
        and summarized.id_b = labels_b.id

)

select * from final
