-- Returns the rows, the scoring path and the mean score of the score table $table_name.
select
    count(*) as scored,
    any_value(scoring_path) as scoring_path,
    avg(score) as mean_score
from query_table($table_name)
