-- The calibrated win probability of each scored open deal.
select
    opportunity_id,
    probability
from ml.opportunity_scores
