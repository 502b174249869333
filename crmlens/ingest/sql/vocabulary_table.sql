-- Creates raw.vocabulary (returns nothing): the CRM's labels of each vocabulary (field:
-- opportunity_stages, lead_statuses, ...), their canonical value, the meaning, position
-- and default probability of a stage, and where each came from (spec, canonical, inferred).
create table if not exists raw.vocabulary (
    field varchar,
    label varchar,
    value varchar,
    meaning varchar,
    position integer,
    probability double,
    origin varchar
)
