-- Per publication (run id) of a family's scores: rows and mean score per score bin (ten)
-- and grade, the model, and the publication's first row in the history (its order when
-- two share a scored_at). $history_table is the family's score history table, named by
-- the code (an identifier cannot be a parameter).
select
    run_id,
    grade,
    min(scored_at) as scored_at,
    min(min(rowid)) over (partition by run_id) as first_row,
    any_value(model_name) as model_name,
    any_value(model_version) as model_version,
    any_value(scoring_path) as scoring_path,
    least(floor(score / 10), 9)::int as bin,
    count(*) as rows,
    avg(score) as mean_score
from $history_table
group by run_id, bin, grade
order by scored_at, run_id, bin
