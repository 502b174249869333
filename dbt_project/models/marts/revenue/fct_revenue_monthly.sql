{#- Bookings and billing per calendar month (UTC):

    bookings        amounts of won opportunities, by the month of closed_at
    invoiced        invoices issued in the month (draft and void invoices excluded)
    collected       invoice amounts paid in the month (by paid_at)
    overdue_amount  invoiced amounts unpaid and past their due date at the month's end;
                    for the as-of month, at the revenue data's as-of instant instead

    Months run from the first booking or invoice to the newest one (or the newest payment),
    quiet months included. Amounts are in the CRM's currency as given (no FX). -#}

with won_opportunities as (

    select
        opportunity_id,
        amount,
        closed_at
    from {{ ref('stg_crm__opportunities') }}
    where is_won and closed_at is not null

),

invoices as (

    select
        invoice_id,
        amount,
        issued_at,
        due_at,
        paid_at
    from {{ ref('stg_crm__invoices') }}
    where {{ rev_is_billed('status') }}

),

revenue_timestamps as (

    select closed_at as happened_at from won_opportunities
    union all
    select issued_at as happened_at from invoices
    union all
    select paid_at as happened_at from invoices

),

bounds as (

    select
        min(happened_at) as first_at,
        max(happened_at) as as_of_at
    from revenue_timestamps

),

months as (

    select
        spine.month,
        {{ rev_month_end('spine.month') }} as month_end_at
    from (
        {{ month_spine('(select first_at from bounds)', '(select as_of_at from bounds)') }}
    ) as spine

),

measured_months as (

    select
        months.month,
        months.month_end_at,
        case
            when months.month_end_at > bounds.as_of_at then bounds.as_of_at
            else months.month_end_at
        end as measured_at
    from months
    cross join bounds

),

bookings as (

    select
        cast({{ dbt.date_trunc('month', 'closed_at') }} as date) as month,
        sum(amount) as bookings,
        count(*) as won_deals
    from won_opportunities
    group by 1

),

invoiced as (

    select
        cast({{ dbt.date_trunc('month', 'issued_at') }} as date) as month,
        sum(amount) as invoiced,
        count(*) as invoices_issued
    from invoices
    group by 1

),

collected as (

    select
        cast({{ dbt.date_trunc('month', 'paid_at') }} as date) as month,
        sum(amount) as collected
    from invoices
    where paid_at is not null
    group by 1

),

overdue as (

    select
        measured_months.month,
        sum(invoices.amount) as overdue_amount,
        count(*) as overdue_invoices
    from measured_months
    inner join invoices
        on measured_months.measured_at > invoices.issued_at
        and measured_months.measured_at > invoices.due_at
        and (invoices.paid_at is null or measured_months.measured_at <= invoices.paid_at)
    group by 1

),

final as (

    select
        measured_months.month,
        coalesce(bookings.bookings, 0) as bookings,
        coalesce(bookings.won_deals, 0) as won_deals,
        coalesce(invoiced.invoiced, 0) as invoiced,
        coalesce(invoiced.invoices_issued, 0) as invoices_issued,
        coalesce(collected.collected, 0) as collected,
        coalesce(overdue.overdue_amount, 0) as overdue_amount,
        coalesce(overdue.overdue_invoices, 0) as overdue_invoices,
        measured_months.measured_at as overdue_measured_at
    from measured_months
    left join bookings
        on measured_months.month = bookings.month
    left join invoiced
        on measured_months.month = invoiced.month
    left join collected
        on measured_months.month = collected.month
    left join overdue
        on measured_months.month = overdue.month

)

select * from final
