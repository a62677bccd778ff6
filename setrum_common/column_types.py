"""Column types every service uses for money and time, exact and alike on SQLite and PostgreSQL.

SQLite has no decimal or timezone-aware types: rupiah amounts and rates are stored as integer
counts of their smallest unit (both engines then add them exactly), and times as naive UTC on
SQLite (fixed-width text sorts like time) and ``timestamptz`` on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from .clock import as_utc

__all__ = ["ScaledDecimal", "UTCDateTime"]


class ScaledDecimal(TypeDecorator[Decimal]):
    """A Decimal with a fixed number of decimals, stored as an integer count of the smallest unit."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self._unit = Decimal(1).scaleb(-scale)

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        value = Decimal(value)
        scaled = value.scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimals")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) * self._unit).quantize(self._unit)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python; naive UTC on SQLite, ``timestamptz`` elsewhere.

    The one timestamp column of every service. A naive datetime is refused: which zone it meant
    is a guess, so code that receives one (a peer's answer) converts it at that edge
    (:func:`setrum_common.clock.as_utc`)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column: use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        # SQLite hands back naive UTC (as stored); PostgreSQL an aware timestamptz.
        return None if value is None else as_utc(value)
