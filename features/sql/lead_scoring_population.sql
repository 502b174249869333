-- The leads open at $as_of (lead_id, as_of): the population a daily scoring run scores.
select
    lead_id,
    $as_of as as_of
from staging.stg_crm__leads
where
    created_at < $as_of
    and (converted_at is null or converted_at >= $as_of)
    and (disqualified_at is null or disqualified_at >= $as_of)
    and status not in ('converted', 'disqualified')
order by lead_id
