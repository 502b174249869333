"""Errors a user can act on: one line on stderr and exit status 1, never a stack trace."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from cli.console import err


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can act on into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from crmlens.ingest import ReconciliationError
        from crmlens.publish.mapped import MappingError
        from crmlens.runlock import WarehouseBusy
        from crmlens.sources.spec import SpecError
        from crmlens.systems import FixtureError

        try:
            return fn(*args, **kwargs)
        except (
            SpecError,
            MappingError,
            FixtureError,
            ReconciliationError,
            WarehouseBusy,
            ConnectionError,
            FileNotFoundError,
            KeyError,
        ) as exc:
            err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            sys.exit(1)

    return wrapper
