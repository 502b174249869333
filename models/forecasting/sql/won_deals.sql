-- Won deals: amount, closed_at and product_line.
select
    amount,
    closed_at,
    product_line
from marts.fct_opportunities
where is_won and closed_at is not null
