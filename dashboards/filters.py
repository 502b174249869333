"""The sidebar filters every page shares: period, team, owner, segment.

They are drawn once by the app's entry point, before the page runs, so a choice
survives moving from page to page; a page reads them with :func:`current`. Pages
with filters of their own draw them under :func:`page_heading` in the sidebar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import streamlit as st

from dashboards.data import DataUnavailable
from dashboards.queries import common as queries

_STATE = "_crmlens_filters"
SEGMENT_LABELS = {"enterprise": "Enterprise", "mid_market": "Mid-market", "smb": "SMB"}


@dataclass(frozen=True)
class Filters:
    """The manager's current choice. Empty tuples mean "all"."""

    start: date
    end: date
    teams: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    # Users in scope: the chosen owners, else everyone in the chosen teams.
    scope_users: tuple[str, ...] = ()
    as_of: date = field(default_factory=date.today)

    @property
    def by_owner(self) -> bool:
        """Whether the choice limits the owners (some owners or teams are chosen)."""
        return bool(self.owners or self.teams)

    @property
    def days(self) -> int:
        """The period's length in days (both ends included)."""
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The same filters over the period of the same length just before."""
        length = timedelta(days=self.days)
        return Filters(
            self.start - length,
            self.start - timedelta(days=1),
            self.teams,
            self.owners,
            self.segments,
            self.scope_users,
            self.as_of,
        )

    def params(self) -> dict:
        """The query parameters of this choice (see :mod:`dashboards.queries`).

        Returns:
            ``start``, ``end``, ``end_excl``, ``by_owner``, ``owners``, ``by_segment``,
            ``segments``, ``as_of``.
        """
        return {
            "start": self.start,
            "end": self.end,
            "end_excl": self.end + timedelta(days=1),
            "by_owner": self.by_owner,
            "owners": list(self.scope_users),
            "by_segment": bool(self.segments),
            "segments": list(self.segments),
            "as_of": self.as_of,
        }

    def describe(self) -> str:
        """The choice in words, for a page's caption: '01 Nov 2025 – 31 Oct 2026 · SMB'."""
        parts = [f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"]
        if self.teams:
            parts.append(f"{len(self.teams)} team(s)")
        if self.owners:
            parts.append(f"{len(self.owners)} owner(s)")
        if self.segments:
            parts.append(", ".join(SEGMENT_LABELS.get(s, s) for s in self.segments))
        return " · ".join(parts)


def default_period(as_of: date) -> tuple[date, date]:
    """The last twelve months up to the data's today.

    Args:
        as_of: the data's today.

    Returns:
        The first and the last day, both included.
    """
    return as_of - timedelta(days=364), as_of


def sidebar() -> Filters:
    """Draw the shared filters in the sidebar and remember the choice for the page.

    Returns:
        The manager's choice (also kept in the session for :func:`current`).
    """
    as_of = queries.data_today()
    try:
        users = queries.users()
    except DataUnavailable:
        users = None
    start, end = default_period(as_of)
    with st.sidebar:
        st.header("Filters")
        picked = st.date_input(
            "Period",
            value=(start, end),
            max_value=max(as_of, date.today()),
            key="f_period",
            help="Deals closed, leads created, months of MRR… within these dates.",
            format="YYYY-MM-DD",
        )
        start, end = _period(picked, start, end)
        if users is None or users.is_empty():
            teams = owners = segments = ()
            scope = ()
        else:
            team_names = sorted(t for t in users["team_name"].unique().to_list() if t)
            teams = tuple(
                st.multiselect("Team", team_names, key="f_teams", placeholder="All teams")
            )
            in_team = users if not teams else users.filter(users["team_name"].is_in(teams))
            names = dict(zip(in_team["user_id"], in_team["label"], strict=True))
            owners = tuple(
                st.multiselect(
                    "Owner",
                    list(names),
                    format_func=lambda u: names.get(u, u),
                    key="f_owners",
                    placeholder="All owners",
                )
            )
            segments = tuple(
                st.multiselect(
                    "Segment",
                    list(SEGMENT_LABELS),
                    format_func=lambda s: SEGMENT_LABELS.get(s, s),
                    key="f_segments",
                    placeholder="All segments",
                    help="The account's tier.",
                )
            )
            scope = owners or (tuple(in_team["user_id"].to_list()) if teams else ())
    chosen = Filters(start, end, teams, owners, segments, scope, as_of)
    st.session_state[_STATE] = chosen
    return chosen


def _period(picked: object, start: date, end: date) -> tuple[date, date]:
    """A date_input gives one date while the second is being picked: keep the period sane."""
    if isinstance(picked, tuple | list):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], max(picked[0], end)
    elif isinstance(picked, date):
        return picked, max(picked, end)
    return start, end


def current() -> Filters:
    """The filters the entry point drew for this run (drawn now if a page runs alone).

    Returns:
        The manager's choice.
    """
    chosen = st.session_state.get(_STATE)
    if chosen is None:  # a page run on its own (not through the app)
        chosen = sidebar()
    return chosen


def page_heading() -> None:
    """Start the sidebar block of filters that belong to the current page only."""
    st.sidebar.divider()
    st.sidebar.caption("On this page")
