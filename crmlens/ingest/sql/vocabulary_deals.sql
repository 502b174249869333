-- The deals in raw, as the inference of stages reads them: opportunity_id, stage, closed
-- (the CRM says it closed), is_won, and age_days (from creation to the newest change).
select
    opportunity_id,
    stage,
    closed_at is not null or is_won is not null as closed,
    is_won,
    date_diff('second', created_at, max(updated_at) over ()) / 86400.0 as age_days
from raw.opportunities
