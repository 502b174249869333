-- One row: the data's "today" (d), the day the marts measure ages and open durations at.
select max(as_of_date) as d from marts.dim_data_today
