"""Time, one way everywhere: instants are timezone-aware UTC ``datetime``s, and the monthly kWh cap
counts Asia/Jakarta calendar months (UTC+7 all year: Indonesia has no daylight saving time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

__all__ = ["JAKARTA", "as_utc", "jakarta_month", "month_bounds", "utc_now"]

JAKARTA = timezone(timedelta(hours=7), "Asia/Jakarta")


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive ``at`` is taken to be UTC already (what SQLite and some peers hand back)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def jakarta_month(at: datetime) -> str:
    """The ``YYYY-MM`` Jakarta calendar month an instant falls in."""
    return at.astimezone(JAKARTA).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants where the Jakarta calendar month ``YYYY-MM`` starts and ends (end exclusive)."""
    year, mon = int(month[:4]), int(month[5:7])
    start = datetime(year, mon, 1, tzinfo=JAKARTA)
    end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=JAKARTA)
    return start.astimezone(UTC), end.astimezone(UTC)
