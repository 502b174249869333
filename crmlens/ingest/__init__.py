"""Ingest: source rows → contract → ``raw.<table>`` or ``quarantine.<table>``.

Nothing is lost (DESIGN.md, non-negotiables). Every row a source yields ends in
exactly one place:

* ``raw.<table>`` — valid rows, upserted by key (the latest ``updated_at`` wins;
  an older or identical version changes nothing);
* ``quarantine.<table>`` — rows the CSV parser could not split, values that do
  not cast to the column's type, rows that break the contract, references to
  ids the CRM never had, and conflicting versions of one key; each with its
  source file, row, column and a reason in words.

``rows_in = rows_loaded + rows_quarantined`` is checked on every load, and a
load that does not reconcile raises :class:`ReconciliationError` inside the
transaction, so nothing of it is kept. Each load is one transaction: readers
never see half a load, and a rerun with the same input leaves the same tables.

Day-partitioned tables (events) are replaced a day at a time: loading a day
deletes exactly that day's rows (from raw and quarantine) and inserts the day
again. Large loads are processed in chunks of whole days, which bounds memory.

A row walks forward through the package, one module per step: the source hands
over a batch (:mod:`crmlens.sources.feed`); :mod:`.batch` makes it a frame,
:mod:`.cast` types it, :mod:`.validate` runs the contract, :mod:`.references`
and :mod:`.versions` check ids and keys, :mod:`.deletions` marks what the CRM
deleted (:mod:`.prepare` walks these steps); :mod:`.quarantine` and :mod:`.upsert`
write it; :mod:`.drift` compares its columns with the contract and the previous
load; :mod:`.log` records the load in its last transaction; :mod:`.load` runs the
chunks' transactions and :mod:`.result` says what a load did.
"""

from crmlens.ingest.load import IngestResult, ReconciliationError, ingest_table
from crmlens.ingest.tables import ensure_tables

__all__ = ["IngestResult", "ReconciliationError", "ensure_tables", "ingest_table"]
