-- The CRM's open stages in the order deals move through them (its vocabulary).
select label
from staging.stg_crm__vocabulary
where field = 'opportunity_stages' and meaning = 'open'
order by position, label
