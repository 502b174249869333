{#- One row per account and month in which the account had MRR at the start or at the end,
    with the movement that explains the change:

    new            0 -> x > 0, the account's first MRR ever
    reactivation   0 -> x > 0, after an earlier churn
    expansion      x -> y > x
    contraction    x -> y, 0 < y < x
    churn          x > 0 -> 0
    flat           x -> x

    mrr_start is the previous month's end MRR. Exactly one of the amount columns is
    non-zero (none for flat), and mrr_start + new + expansion + reactivation
    - contraction - churned = mrr_end. -#}

with account_mrr as (

    select
        account_id,
        month,
        mrr
    from {{ ref('int_account_mrr_monthly') }}

),

with_previous as (

    select
        account_id,
        month,
        coalesce(
            lag(mrr) over (partition by account_id order by month),
            0
        ) as mrr_start,
        mrr as mrr_end,
        coalesce(
            max(case when mrr > 0 then 1 else 0 end) over (
                partition by account_id
                order by month
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as had_mrr_before
    from account_mrr

),

classified as (

    select
        account_id,
        month,
        mrr_start,
        mrr_end,
        case
            when mrr_start = 0 and mrr_end > 0 and had_mrr_before = 0 then 'new'
            when mrr_start = 0 and mrr_end > 0 then 'reactivation'
            when mrr_start > 0 and mrr_end = 0 then 'churn'
            when mrr_end > mrr_start then 'expansion'
            when mrr_end < mrr_start then 'contraction'
            else 'flat'
        end as movement
    from with_previous
    where mrr_start <> 0 or mrr_end <> 0

),

final as (

    select
        account_id,
        month,
        mrr_start,
        mrr_end,
        mrr_end - mrr_start as mrr_change,
        movement,
        case when movement = 'new' then mrr_end else 0 end as new_mrr,
        case when movement = 'expansion' then mrr_end - mrr_start else 0 end as expansion_mrr,
        case when movement = 'contraction' then mrr_start - mrr_end else 0 end as contraction_mrr,
        case when movement = 'churn' then mrr_start else 0 end as churned_mrr,
        case when movement = 'reactivation' then mrr_end else 0 end as reactivation_mrr
    from classified

)

select * from final
