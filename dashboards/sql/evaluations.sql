-- The metrics of every candidate model of $family's latest training, per split.
with latest as (
    select max(trained_at) as trained_at
    from ml.model_evaluations
    where family = $family
)

select
    e.model,
    e.split,
    e.published,
    e.roc_auc,
    e.pr_auc,
    e.brier,
    e.log_loss,
    e.lift_top_decile,
    e.ece,
    e.rows,
    e.positive_rate,
    e.gate,
    e.trained_at,
    e.registered_version
from ml.model_evaluations as e
inner join latest on e.trained_at = latest.trained_at
where e.family = $family
order by e.split asc, e.model asc
