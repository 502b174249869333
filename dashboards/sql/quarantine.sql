-- Rows in quarantine per table and reason, with their share of the input, the most first.
select
    q.table_name,
    q.reason_code,
    q.rows,
    q.input_rows,
    q.share_of_input,
    q.sample_reason,
    q.last_loaded_at
from marts.dq_quarantine_summary as q
order by q.rows desc
