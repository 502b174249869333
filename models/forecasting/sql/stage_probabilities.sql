-- Each open stage of the CRM with its default probability (its vocabulary).
select
    label,
    probability
from staging.stg_crm__vocabulary
where field = 'opportunity_stages' and meaning = 'open'
