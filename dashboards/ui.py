"""Page furniture every page uses the same way: sections, tables with CSV, KPI rows.

A section is where a page meets missing data: if anything inside it finds a table
absent (the pipeline has not built it yet), the section says so in words and the
rest of the page still draws. A manager never sees a stack trace; the server log
keeps the details of anything unexpected.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence

import polars as pl
import streamlit as st

from crmlens.publish.spreadsheet import neutralise_formulas
from dashboards.data import DataUnavailable, serving_path, snapshot_meta
from dashboards.processing.formatting import Kpi

log = logging.getLogger(__name__)


class Section:
    """What became of a section: ``ok`` is false once it showed a message instead."""

    ok: bool = True


@contextlib.contextmanager
def section(
    title: str | None, *, help: str | None = None, caption: str | None = None
) -> Iterator[Section]:
    """A titled part of a page that fails softly (a message, never a trace).

    A page whose later sections need what an earlier one loaded checks its ``ok``.

    Args:
        title: the subheader; None for a section without one.
        help: the subheader's tooltip.
        caption: a line under the subheader.

    Yields:
        The section's :class:`Section`, whose ``ok`` turns false if it failed.
    """
    if title:
        st.subheader(title, help=help, anchor=False)
    if caption:
        st.caption(caption)
    state = Section()
    try:
        yield state
    except DataUnavailable as exc:
        state.ok = False
        st.info(str(exc), icon=":material/hourglass_empty:")
    except Exception:
        state.ok = False
        log.exception("dashboard section %r failed", title)
        st.error(
            "This part of the page could not be drawn. The rest of the page is fine; the "
            "details are in the dashboard's log.",
            icon=":material/error:",
        )


def no_data_yet(title: str) -> None:
    """A page's title and the one message shown before the pipeline has published data.

    Args:
        title: the page's title.
    """
    st.title(title, anchor=False)
    st.info(
        f"No data has been published yet at `{serving_path()}`. Run the pipeline first "
        "(`make demo`, or `crmlens run`); this page fills in as soon as it publishes.",
        icon=":material/hourglass_empty:",
    )


def page_header(title: str, intro: str, filters_note: str | None = None) -> None:
    """A page's title, what it answers, and which filters apply (if given).

    Args:
        title: the page's title.
        intro: what the page answers.
        filters_note: which filters apply, under a filter icon; none if None.
    """
    st.title(title, anchor=False)
    st.caption(intro)
    if filters_note:
        st.caption(f":material/filter_alt: {filters_note}")


def kpi_row(kpis: Sequence[Kpi]) -> None:
    """Headline figures side by side, each in a bordered tile with its change and help.

    Args:
        kpis: the figures, left to right.
    """
    for column, kpi in zip(st.columns(len(kpis)), kpis, strict=True):
        column.metric(
            kpi.label,
            kpi.value,
            delta=kpi.delta,
            delta_color=kpi.delta_color,
            help=kpi.help,
            border=True,
        )


def to_csv(frame: pl.DataFrame) -> bytes:
    """CSV for spreadsheets: list columns joined with '; ', nested values as JSON text, and
    text a spreadsheet would run as a formula neutralised (``'=…``), as in every CSV
    crmlens writes (:func:`crmlens.publish.spreadsheet.neutralise_formulas`).

    Args:
        frame: the rows.

    Returns:
        The CSV, UTF-8.
    """
    flat = frame.with_columns(
        [
            pl.col(name).list.eval(pl.element().cast(pl.String)).list.join("; ")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.List)
        ]
    )
    return neutralise_formulas(flat).write_csv().encode()


def table(
    frame: pl.DataFrame,
    *,
    name: str,
    columns: dict | None = None,
    limit: int | None = None,
    empty: str = "Nothing matches these filters.",
    height: int | str = "auto",
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> None:
    """A table with its CSV download (all rows, even when only ``limit`` are shown).

    ``prepare`` (e.g. reasons in words) runs on the rows shown now and on all rows only
    when the CSV is asked for, so a long list costs only its first page on every rerun.

    Args:
        frame: the rows.
        name: names the CSV file (``crmlens_<name>.csv``) and the button's key.
        columns: column names to ``st.column_config`` entries (or labels); only those
            columns are shown and downloaded, in that order. All columns when None.
        limit: show at most this many rows.
        empty: the message when there is no row.
        height: the table's height in pixels, or "auto".
        prepare: a function of the rows run before showing or downloading them.
    """
    if frame.is_empty():
        st.info(empty, icon=":material/search_off:")
        return

    def finish(rows: pl.DataFrame) -> pl.DataFrame:
        rows = prepare(rows) if prepare else rows
        return rows.select([c for c in columns if c in rows.columns]) if columns else rows

    shown = finish(frame.head(limit) if limit else frame)
    st.dataframe(
        shown,
        hide_index=True,
        column_config=columns,
        width="stretch",
        height=height,
    )
    note = (
        f"Showing {shown.height:,} of {frame.height:,} rows; the CSV has all of them."
        if shown.height < frame.height
        else None
    )
    if note:
        st.caption(note)
    st.download_button(
        "Download CSV",
        data=_deferred(frame, finish),
        file_name=f"crmlens_{name}.csv",
        mime="text/csv",
        key=f"csv_{name}",
        icon=":material/download:",
        on_click="ignore",
    )


def _deferred(
    frame: pl.DataFrame, finish: Callable[[pl.DataFrame], pl.DataFrame]
) -> Callable[[], bytes]:
    """The CSV is written when the button is clicked, not on every rerun."""
    return lambda: to_csv(finish(frame))


def snapshot_caption() -> None:
    """In the sidebar: which publication of the data the pages show."""
    meta = snapshot_meta()
    if meta.get("published_at"):
        st.sidebar.caption(
            f":material/database: Data published {meta['published_at'].replace('T', ' ')} UTC"
            + (f" · run {str(meta['run_id'])[:8]}" if meta.get("run_id") else "")
        )


# Column formats shared by every table, so a score or an amount looks the same everywhere.


def money_col(label: str, help: str | None = None) -> object:
    """An amount column, short (1.2M).

    Args:
        label: the column's header.
        help: its tooltip.

    Returns:
        The column configuration.
    """
    return st.column_config.NumberColumn(label, format="compact", help=help)


def number_col(label: str, fmt: str = "localized", help: str | None = None) -> object:
    """A number column in ``fmt`` (a printf format, or "localized").

    Args:
        label: the column's header.
        fmt: a printf format, or "localized".
        help: its tooltip.

    Returns:
        The column configuration.
    """
    return st.column_config.NumberColumn(label, format=fmt, help=help)


def pct_col(label: str, help: str | None = None) -> object:
    """A share column, as a percentage.

    Args:
        label: the column's header.
        help: its tooltip.

    Returns:
        The column configuration.
    """
    return st.column_config.NumberColumn(label, format="percent", help=help)


def score_col(label: str = "Score", help: str | None = None) -> object:
    """A 0-100 score column, drawn as a bar.

    Args:
        label: the column's header.
        help: its tooltip.

    Returns:
        The column configuration.
    """
    return st.column_config.ProgressColumn(
        label, min_value=0, max_value=100, format="%d", help=help, width="small"
    )


def text_col(label: str, width: str = "medium", help: str | None = None) -> object:
    """A text column of ``width`` (small, medium, large).

    Args:
        label: the column's header.
        width: small, medium or large.
        help: its tooltip.

    Returns:
        The column configuration.
    """
    return st.column_config.TextColumn(label, width=width, help=help)


def list_col(label: str, help: str | None = None) -> object:
    """A column of lists (risk flags), as tags.

    Args:
        label: the column's header.
        help: its tooltip.

    Returns:
        The column configuration.
    """
    return st.column_config.ListColumn(label, help=help, width="medium")


def date_col(label: str) -> object:
    """A date column, YYYY-MM-DD.

    Args:
        label: the column's header.

    Returns:
        The column configuration.
    """
    return st.column_config.DateColumn(label, format="YYYY-MM-DD")


def datetime_col(label: str) -> object:
    """A timestamp column, YYYY-MM-DD HH:mm.

    Args:
        label: the column's header.

    Returns:
        The column configuration.
    """
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")
