-- Share of empty values in each key field, where the field is expected, the emptiest first.
select
    table_name,
    column_name,
    population,
    rows,
    nulls,
    null_rate
from marts.dq_null_rates
where rows > 0
order by null_rate desc nulls last
