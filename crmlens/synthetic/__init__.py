"""The synthetic CRM: a coherent, seeded company history with real causal structure.

``generate(out_dir, scale, seed, ...)`` writes ``crm/<table>.csv`` (13 canonical
tables plus custom attributes), ``events/<day>.parquet|jsonl`` and
``ground_truth.json`` (every seeded defect and duplicate). Same arguments, same
bytes.

The timeline, in causal order (each module's docstring has the details):

1. :mod:`.org` — teams and users (SDRs, AEs, CSMs, managers; latent rep skill),
   accounts (industry, size, tier, region) and their contacts.
2. :mod:`.campaigns` — campaigns (channel, dates, cost, a latent lead quality).
3. :mod:`.funnel` — leads with a latent intent that drives their engagement
   events and their conversion, together with fit, custom fields, nonlinear
   effects and hidden noise; events after the decision (a leak).
4. :mod:`.deals` — opportunities through the stages, with activity cadence,
   stakeholders, competitors, discounting, stalls and close-date pushes driving
   the outcome; quarter-end clustering of wins. Then e-mail campaigns to the
   contacts (:mod:`.campaigns`).
5. :mod:`.customers` — subscriptions per yearly term, renewals with expansion
   or contraction, churn at renewal driven by a drifting health latent that also
   shows in usage, tickets/CSAT, late invoices and NPS.
6. :mod:`.events` — the day files: lead and e-mail engagement, product usage,
   anonymous traffic; written day by day.
7. :mod:`.dirty` — seeded defects (quarantine reason codes) and duplicates.

Headline rates (calibrated, checked by the tests): lead → opportunity ~12 %,
win rate ~27 % of closed deals, annual logo churn ~13 %.
"""

from crmlens.synthetic.generator import GenerateResult, generate
from crmlens.synthetic.scales import SCALES, Scale

__all__ = ["SCALES", "GenerateResult", "Scale", "generate"]
