-- The deals open at $as_of (opportunity_id, as_of): the population a daily scoring run scores.
select
    opportunity_id,
    cast($as_of as timestamp) as as_of
from staging.stg_crm__opportunities
where
    created_at < $as_of
    and (closed_at is null or closed_at >= $as_of)
    and stage_meaning = 'open'
order by opportunity_id
