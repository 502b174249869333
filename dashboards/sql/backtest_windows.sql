-- The windows of the newest replay of $family's schedule (crmlens backtest), oldest first,
-- with the replay's pooled figures on every row.
with newest as (
    select *
    from ml.backtests
    where family = $family
    order by ran_at desc
    limit 1
)

select
    w.start,
    w.rows,
    w.positives,
    w.path,
    w.model,
    w.roc_auc,
    w.rule_roc_auc,
    w.pr_auc,
    w.brier,
    w.ece,
    w.lift_top_decile,
    w.known_rows,
    w.verdict,
    n.step,
    n.ran_at,
    n.windows as replay_windows,
    n.rows as replay_rows,
    n.model_windows as replay_model_windows,
    n.roc_auc as replay_roc_auc,
    n.rule_roc_auc as replay_rule_roc_auc,
    n.mean_window_roc_auc as replay_mean_window_roc_auc,
    n.pr_auc as replay_pr_auc,
    n.ece as replay_ece,
    n.lift_top_decile as replay_lift_top_decile
from ml.backtest_windows as w
inner join newest as n on w.mlflow_run_id = n.mlflow_run_id
order by w.start
