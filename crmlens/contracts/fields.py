"""The kinds of field the contracts are made of, and their common base class."""

from __future__ import annotations

import pandera.polars as pa

from crmlens.contracts import checks  # noqa: F401 - registers its checks before a field uses them
from crmlens.contracts.vocabulary import EMAIL_PATTERN


def Ts(description: str, *, nullable: bool = True) -> object:
    """A timestamp field (naive, UTC) that must not lie in the future.

    Args:
        description: a sentence for the documentation.
        nullable: whether it may be empty.

    Returns:
        The pandera field.
    """
    return pa.Field(nullable=nullable, not_in_future=(), description=description)


def Email(description: str) -> object:
    """An e-mail address field: something@domain.tld, or null."""
    return pa.Field(nullable=True, str_matches=EMAIL_PATTERN, description=description)


def Money(description: str) -> object:
    """An amount of money: finite and not negative, or null."""
    return Amount(description)


def Amount(description: str) -> object:
    """A measured quantity (money, minutes): a finite number, not negative, or null."""
    return pa.Field(nullable=True, ge=0, finite=(), description=description)


def Enum(values: tuple[str, ...], description: str, *, nullable: bool = True) -> object:
    """A field that takes one of ``values`` (canonical labels, see :mod:`.vocabulary`).

    Args:
        values: the allowed values.
        description: a sentence for the documentation.
        nullable: whether it may be empty.

    Returns:
        The pandera field.
    """
    return pa.Field(nullable=nullable, isin=list(values), description=description)


def Label(description: str, *, nullable: bool = True) -> object:
    """A field holding the CRM's own label of a vocabulary (a stage, a status, a channel).

    The contract accepts any text: which labels a closed list accepts depends on the
    source spec's ``vocabularies`` (:mod:`crmlens.ingest.vocabulary` checks them), and an
    open list accepts any value (:data:`~crmlens.contracts.vocabulary.VOCABULARIES`).

    Args:
        description: a sentence for the documentation.
        nullable: whether it may be empty.

    Returns:
        The pandera field.
    """
    return pa.Field(nullable=nullable, description=description)


def Key(description: str) -> object:
    """A key column: a non-empty string as the CRM gives it."""
    return pa.Field(nullable=False, str_length={"min_value": 1}, description=description)


def Ref(description: str) -> object:
    """A reference to another table's key, or null."""
    return pa.Field(nullable=True, description=description)


class ContractSchema(pa.DataFrameModel):
    """The base of every canonical table's schema."""

    class Config:
        # Extra columns are custom attributes: kept, not rejected.
        strict = False
        coerce = False
