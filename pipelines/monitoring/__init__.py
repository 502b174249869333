"""Monitoring domain (group ``monitoring``): the models' drift and calibration checks
(:mod:`pipelines.monitoring.model_checks`, recorded by :mod:`pipelines.monitoring.store`),
and the alerts asset with the jobs' failure hook (:mod:`pipelines.monitoring.alerts`)."""
