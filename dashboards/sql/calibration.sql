-- Test-set calibration deciles of $family's latest training, per candidate model, and
-- whether that model was published.
with latest as (
    select max(trained_at) as trained_at
    from ml.model_calibration
    where family = $family
),

candidates as (
    select distinct
        model,
        trained_at,
        published
    from ml.model_evaluations
    where family = $family
)

select
    c.model,
    c.decile,
    c.rows,
    c.mean_predicted,
    c.observed_rate,
    c.trained_at,
    coalesce(e.published, false) as published
from ml.model_calibration as c
inner join latest on c.trained_at = latest.trained_at
left join candidates as e
    on c.model = e.model and c.trained_at = e.trained_at
where c.family = $family
order by c.model asc, c.decile asc
