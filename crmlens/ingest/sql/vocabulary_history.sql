-- The stage history in raw, as the inference of stages reads it.
select
    opportunity_id,
    changed_at,
    from_stage,
    to_stage
from raw.opportunity_stage_history
