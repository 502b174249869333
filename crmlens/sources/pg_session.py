"""Every PostgreSQL session crmlens opens has a deadline.

A lost or black-holed network must turn into an error, never into a process waiting
forever with a transaction open in the CRM's database. Three layers, all from the
settings (``CRMLENS_POSTGRES_*``):

- the server ends what a vanished client left behind: ``statement_timeout`` cancels a
  statement running too long (a COPY whose data stopped arriving),
  ``idle_in_transaction_session_timeout`` ends a session idle inside a transaction, and
  the server's TCP keepalives notice a dead client; the transaction rolls back, its
  locks go, and the CRM keeps what it had;
- the client's TCP keepalives (and ``tcp_user_timeout``) notice a dead network;
- the client waits for any one exchange with the server at most the statement timeout
  plus the time keepalives take to find a dead network (:class:`DeadlineConnection`):
  past that, whatever the cause, the session is closed and the caller gets a
  :class:`SessionDeadline` (a ``psycopg.OperationalError``, so it is retried like a
  lost connection).

Parameters the DSN already sets (``connect_timeout=3``, ``application_name``) win over
these defaults.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from crmlens.settings import Settings

# psycopg raises this (an OperationalError) when a wait's timeout expires.
_WAIT_TIMEOUT = getattr(psycopg.errors, "_WaitTimeout", psycopg.OperationalError)

# One statement sets the session's server-side limits (works through poolers, unlike
# the startup `options` parameter).
_SET_LIMITS = (
    "select set_config('statement_timeout', %s, false), "
    "set_config('idle_in_transaction_session_timeout', %s, false), "
    "set_config('tcp_keepalives_idle', %s, false), "
    "set_config('tcp_keepalives_interval', %s, false), "
    "set_config('tcp_keepalives_count', %s, false)"
)


class SessionDeadline(psycopg.OperationalError):
    """The server did not answer within the session's deadline; the session was closed."""


@dataclass(frozen=True)
class SessionLimits:
    """The deadlines of one PostgreSQL session, in seconds."""

    connect_timeout: int = 10
    statement_timeout: float = 600.0
    idle_in_transaction_timeout: float = 60.0
    keepalive_idle: int = 30
    keepalive_interval: int = 10
    keepalive_count: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionLimits:
        """The limits the settings give (``CRMLENS_POSTGRES_*``).

        Args:
            settings: the settings.

        Returns:
            The limits.
        """
        return cls(
            connect_timeout=settings.postgres_connect_timeout_seconds,
            statement_timeout=settings.postgres_statement_timeout_seconds,
            idle_in_transaction_timeout=settings.postgres_idle_in_transaction_timeout_seconds,
            keepalive_idle=settings.postgres_keepalive_idle_seconds,
            keepalive_interval=settings.postgres_keepalive_interval_seconds,
            keepalive_count=settings.postgres_keepalive_count,
        )

    @property
    def dead_network(self) -> float:
        """Seconds of silence after which keepalives declare the network dead."""
        return self.keepalive_idle + self.keepalive_interval * self.keepalive_count

    @property
    def client_wait(self) -> float:
        """The longest the client waits for one exchange with the server."""
        return self.statement_timeout + self.dead_network

    def libpq_params(self, dsn: str) -> dict[str, Any]:
        """Connection parameters for the client side, except those the DSN sets itself.

        Args:
            dsn: the database.

        Returns:
            Keyword arguments for ``psycopg.connect``.
        """
        params: dict[str, Any] = {
            "connect_timeout": self.connect_timeout,
            "keepalives": 1,
            "keepalives_idle": self.keepalive_idle,
            "keepalives_interval": self.keepalive_interval,
            "keepalives_count": self.keepalive_count,
            # Sent data unacknowledged this long: the network is gone (keepalives only
            # probe an idle link, not one with data in flight).
            "tcp_user_timeout": int(self.dead_network * 1000),
            "application_name": "crmlens",
        }
        given = conninfo_to_dict(dsn)
        return {k: v for k, v in params.items() if k not in given}

    def server_values(self) -> list[str]:
        """The values of :data:`_SET_LIMITS`, in its order."""
        return [
            f"{int(self.statement_timeout * 1000)}ms",
            f"{int(self.idle_in_transaction_timeout * 1000)}ms",
            str(self.keepalive_idle),
            str(self.keepalive_interval),
            str(self.keepalive_count),
        ]


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every wait on the server is bounded.

    Every exchange (a statement and its result, a block of COPY data, a commit) goes
    through :meth:`wait`; past ``wait_limit`` seconds the connection is closed and
    :class:`SessionDeadline` raised, so a black-holed network cannot hang the caller.
    """

    wait_limit: float | None = None

    def wait(
        self,
        gen: Generator[Any, Any, Any],
        interval: float = 0.1,
        timeout: float | None = None,
    ) -> Any:
        """Consume a generator operating on the connection, within the session's deadline."""
        limit = timeout if timeout is not None else self.wait_limit
        started = time.monotonic()
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except _WAIT_TIMEOUT as exc:
            expired = limit is not None and time.monotonic() - started >= limit
            if timeout is not None or not expired:  # psycopg's own bounded wait, or not ours
                raise
            self.close()  # the protocol state is unknown: never reuse it
            raise SessionDeadline(
                f"no answer from the server within {limit:g} s (the statement timeout plus "
                "the time keepalives take to find a dead network); the session was closed"
            ) from exc


def open_session(
    dsn: str, limits: SessionLimits, *, autocommit: bool = False
) -> DeadlineConnection:
    """Connect with the session's deadlines set on both sides.

    Args:
        dsn: the database.
        limits: the deadlines.
        autocommit: whether each statement commits on its own.

    Returns:
        The connection (a context manager, like any psycopg connection).

    Raises:
        psycopg.OperationalError: the database cannot be reached in time.
    """
    # The limits are set in autocommit, so they hold for the session whatever becomes of
    # the caller's transactions.
    pg = DeadlineConnection.connect(dsn, autocommit=True, **limits.libpq_params(dsn))
    pg.wait_limit = limits.client_wait
    try:
        pg.execute(_SET_LIMITS, limits.server_values())
        pg.autocommit = autocommit
    except BaseException:
        pg.close()
        raise
    return pg


def error_text(exc: BaseException) -> str:
    """A PostgreSQL error whole, on one line: message, detail, hint, where.

    psycopg's text spreads over lines (``DETAIL:``, ``HINT:``, the connection's
    "server closed the connection unexpectedly / This probably means ..."); showing only
    its first or last line loses what a person needs to act.

    Args:
        exc: the error.

    Returns:
        One line.
    """
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if primary:
        parts = [primary]
        for label, value in (
            ("DETAIL", diag.message_detail),
            ("HINT", diag.message_hint),
            ("at character", diag.statement_position),
            ("CONTEXT", diag.context),
        ):
            if value:
                parts.append(f"{label} {value}" if label == "at character" else f"{label}: {value}")
        return "; ".join(p.strip() for p in parts)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) if lines else type(exc).__name__
