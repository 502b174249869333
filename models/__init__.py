"""Machine-learning models of crmlens, one package per family.

- :mod:`models.common` — training, evaluation, calibration, explanation, registry;
- :mod:`models.lead_scoring`, :mod:`models.deal_scoring`, :mod:`models.churn` — the
  families: which features, which rule-based baseline, which reasons and actions.

(dbt models live only under ``dbt_project/``; data contracts are ``*Schema``.)
"""
