"""Publishing scores to the operational CRM: the contract, and its three targets.

- DuckDB ``publish`` schema (always): the current table per family, replaced
  atomically, and ``<table>_history`` with every published version;
- an export folder of Parquet (and CSV on request) per table with a manifest;
- PostgreSQL: only inserted, changed and removed rows, one transaction per table,
  a row per table per run in ``ops.sync_log``.
"""
