-- Creates ops.source_settings (returns nothing): what the source's spec says the pipeline
-- cannot guess, one row for the source ingest loaded last. as_of: the export date (null:
-- from the data); labels: per family, what the spec said (JSON; an absent key: default).
create table if not exists ops.source_settings (
    source varchar,
    as_of timestamp,
    labels json,
    recorded_at timestamp
)
