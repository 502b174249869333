-- How many entities each family's source has, settled or not (family, entities): the
-- leads, the deals, and the accounts with a subscription (the customers churn is about).
select
    'lead_scoring' as family,
    count(*) as entities
from staging.stg_crm__leads
union all
select
    'deal_scoring' as family,
    count(*) as entities
from staging.stg_crm__opportunities
union all
select
    'churn' as family,
    count(distinct account_id) as entities
from staging.stg_crm__subscriptions
