-- Every champion/challenger decision of $family, newest first, with both models' holdout
-- AUC and ECE.
select
    decided_at,
    promote,
    reason,
    challenger_version,
    champion_version,
    auc_margin_required,
    holdout_rows,
    try_cast(challenger_auc as double) as challenger_auc,
    try_cast(champion_auc as double) as champion_auc,
    try_cast(challenger_ece as double) as challenger_ece,
    try_cast(champion_ece as double) as champion_ece
from ml.model_promotions
where family = $family
order by decided_at desc
