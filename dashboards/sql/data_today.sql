-- One row: the data's "today" (d), the day the marts measure ages and open durations at.
select max(as_of_date) as d from intermediate.int_sales_as_of
