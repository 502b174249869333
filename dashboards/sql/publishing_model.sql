-- What publishes a family's scores now (model, version, path), with the newest scored_at
-- and the row count. $scores_table is the family's score table, named by the code (an
-- identifier cannot be a parameter).
select
    model_name,
    model_version,
    scoring_path,
    max(scored_at) as scored_at,
    count(*) as rows
from $scores_table
group by all
