{#- One row: the data's "today", the moment the marts measure ages and open durations at
    (int_sales_as_of), for readers that read marts only. -#}

select
    as_of_at,
    as_of_date
from {{ ref('int_sales_as_of') }}
