"""What ingest reads of one table: its batches, planned in chunks of whole days.

A :class:`TableFeed` is the reading side's whole answer to ingest: the chunks a
load is made of, a way to read each chunk's batch (files or PostgreSQL), and
what the spec declares about the table (custom-attribute types, live fields).
Ingest walks forward from it and never asks the spec anything again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from crmlens.settings import Settings
from crmlens.sources.files import ReadBatch, read_table
from crmlens.sources.spec import Deletions, FileSource, SourceSpec, referenced_aliases

# The setting's default, for callers that pass no chunk size.
DEFAULT_CHUNK_ROWS: int = Settings.model_fields["ingest_chunk_rows"].default

# Bytes per event line in a JSONL or CSV day file: the row estimate of a day
# whose file has no row count in its footer.
_BYTES_PER_LINE = 120


@dataclass
class Chunk:
    """The days one transaction replaces, and the days it reads (None: not partitioned)."""

    replace: list[date]
    read: list[date] | None

    @property
    def reads(self) -> bool:
        """Whether the chunk has anything to read (a day-less chunk only deletes)."""
        return self.read is None or bool(self.read)


@dataclass
class TableFeed:
    """One canonical table of a source, as ingest consumes it.

    Attributes:
        source: the spec's name, recorded with every load.
        table: the canonical table.
        chunks: the chunks of the load, in order; one chunk if not partitioned.
        partitioned: whether the table is read by day files.
        declared_types: custom column -> DuckDB type, as the spec declares them.
        live_fields: custom columns whose value the CRM overwrites over time.
        lacks: optional canonical columns the CRM does not have (no drift warning).
        deletions: how the CRM says a record of the table was deleted, if the spec says.
        date_formats: the strptime formats of the files the table is read from (their
            ``date_format:``), tried before ISO 8601 when text is typed as a date.
    """

    source: str
    table: str
    chunks: list[Chunk]
    partitioned: bool = False
    declared_types: dict[str, str] = field(default_factory=dict)
    live_fields: list[str] = field(default_factory=list)
    lacks: list[str] = field(default_factory=list)
    deletions: Deletions | None = None
    date_formats: tuple[str, ...] = ()
    _spec: SourceSpec | None = field(default=None, repr=False)

    def read(self, con: duckdb.DuckDBPyConnection, chunk: Chunk) -> ReadBatch:
        """Read one chunk's rows as a batch on ``con`` (its views are temporary).

        Args:
            con: the connection the rows are read in.
            chunk: one of :attr:`chunks`.

        Returns:
            The select's rows, the records the parser rejected and the files read.
        """
        assert self._spec is not None
        if self._spec.kind == "postgres":
            from crmlens.sources.postgres import read_postgres_table  # psycopg only when used

            return read_postgres_table(con, self._spec, self.table)
        return read_table(con, self._spec, self.table, chunk.read)

    def read_tombstones(self, con: duckdb.DuckDBPyConnection) -> ReadBatch:
        """Read the table's tombstones (the keys the CRM deleted) as a batch on ``con``.

        Args:
            con: the connection the rows are read in.

        Returns:
            The tombstones' select over the spec's files (all of them, every load).
        """
        assert self._spec is not None and self.deletions and self.deletions.tombstones
        return read_table(con, self._spec, self.table, None, select=self.deletions.tombstones)


def open_feed(
    spec: SourceSpec,
    table: str,
    *,
    days: list[date] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> TableFeed:
    """Plan the reading of one table the spec provides.

    Args:
        spec: the source spec (files or postgres).
        table: a canonical table the spec provides.
        days: for day-partitioned tables, the days to (re)load; ``None``: all days found.
        chunk_rows: about how many rows one chunk of days holds.

    Returns:
        The feed ingest loads the table from.
    """
    declared = {k: v.upper() for k, v in spec.custom_attributes.get(table, {}).items()}
    feed = TableFeed(
        source=spec.name,
        table=table,
        chunks=[Chunk(replace=[], read=None)],
        declared_types=declared,
        live_fields=list(spec.live_fields.get(table, [])),
        lacks=list(spec.lacks.get(table, [])),
        deletions=spec.deletions.get(table),
        _spec=spec,
    )
    if spec.kind != "postgres":
        feed.chunks = plan_chunks(spec, table, days, chunk_rows)
        feed.partitioned = spec.partition_alias(table) is not None
        aliases = referenced_aliases(spec.tables[table].select, spec.files)
        formats = [spec.files[a].date_format for a in aliases]
        feed.date_formats = tuple(dict.fromkeys(f for f in formats if f))
    return feed


def plan_chunks(
    spec: SourceSpec, table: str, days: list[date] | None, chunk_rows: int
) -> list[Chunk]:
    """Chunks of whole days of about ``chunk_rows`` rows; one chunk if not partitioned.

    A day asked for that has no file is still replaced (by nothing: the source no
    longer has it), in the first chunk.

    Args:
        spec: a files spec.
        table: a canonical table it provides.
        days: the days to (re)load; ``None``: every day with a file.
        chunk_rows: about how many rows a chunk holds.

    Returns:
        The chunks, in day order.
    """
    source = spec.partition_alias(table)
    if source is None:
        return [Chunk(replace=[], read=None)]
    available = spec.available_days(table)
    wanted = sorted(set(days)) if days is not None else available
    present = set(available)
    readable = [d for d in wanted if d in present]
    sizes = _day_sizes(spec, source, readable)
    chunks: list[Chunk] = []
    rows = 0
    for day in readable:
        if not chunks or rows + sizes[day] > chunk_rows:
            chunks.append(Chunk(replace=[], read=[]))
            rows = 0
        chunks[-1].replace.append(day)
        chunks[-1].read.append(day)  # type: ignore[union-attr]
        rows += sizes[day]
    gone = [d for d in wanted if d not in present]
    if gone:
        if not chunks:
            chunks.append(Chunk(replace=[], read=[]))
        chunks[0].replace = sorted(chunks[0].replace + gone)
    return chunks


def _day_sizes(spec: SourceSpec, source: FileSource, days: list[date]) -> dict[date, int]:
    """Rows per day file: exact for Parquet (footer), estimated from bytes otherwise."""
    import pyarrow.parquet as pq

    sizes: dict[date, int] = {}
    fmt = source.resolved_format()
    for day in days:
        path = spec.root / source.path.replace("{day}", day.isoformat())
        if not path.exists():
            sizes[day] = 0
        elif fmt == "parquet":
            try:
                sizes[day] = pq.read_metadata(path).num_rows
            except Exception:  # a bad file: planned by its bytes, set aside when read
                sizes[day] = path.stat().st_size // _BYTES_PER_LINE
        else:
            sizes[day] = path.stat().st_size // _BYTES_PER_LINE
    return sizes
