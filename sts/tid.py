"""Token identifiers (TID): minutes since the meter's base date, in 24 bits.

Every STS token carries the minute it was issued, counted from a *base date*. The original
base date 1993-01-01 00:00 ran out of 24-bit minutes on 2024-11-24 20:16 (the "TID
rollover"); meters were then moved to base date 2014-01-01 by key-change tokens. A vending
system must therefore refuse to make a token for a 1993 meter after the rollover instead of
wrapping the counter, which the meter would reject as OLD.

Times are UTC. Naive datetimes are taken as UTC; aware ones are converted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = [
    "BASE_1993",
    "BASE_2014",
    "BASE_2035",
    "BASE_DATES",
    "MAX_TID",
    "KeyChangeRequired",
    "base_date_for_year",
    "next_base_date",
    "base_rollover",
    "tid_for",
    "tid_to_datetime",
]

BASE_1993 = datetime(1993, 1, 1, tzinfo=UTC)
BASE_2014 = datetime(2014, 1, 1, tzinfo=UTC)
BASE_2035 = datetime(2035, 1, 1, tzinfo=UTC)
BASE_DATES = {1993: BASE_1993, 2014: BASE_2014, 2035: BASE_2035}
MAX_TID = (1 << 24) - 1


class KeyChangeRequired(ValueError):
    """The issue time is past the base date's 24-bit range: the meter needs a new key."""


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def base_date_for_year(year: int) -> datetime:
    """The base date for ``1993``, ``2014`` or ``2035``."""
    try:
        return BASE_DATES[year]
    except KeyError:
        raise ValueError(f"unknown STS base date year {year} (use 1993, 2014 or 2035)") from None


def next_base_date(year: int) -> int:
    """The base date a meter moves to at its TID rollover key change (1993 -> 2014 -> 2035)."""
    later = sorted(y for y in BASE_DATES if y > year)
    if not later:
        raise ValueError(f"no STS base date follows {year}")
    return later[0]


def base_rollover(base: datetime) -> datetime:
    """The first minute a base date can no longer express (1993 -> 2024-11-24 20:16 UTC)."""
    return _utc(base) + timedelta(minutes=MAX_TID + 1)


def tid_for(issued_at: datetime, base: datetime = BASE_2014) -> int:
    """The TID of a token issued at ``issued_at`` (seconds are dropped)."""
    base = _utc(base)
    minutes = int((_utc(issued_at) - base) // timedelta(minutes=1))
    if minutes < 0:
        raise ValueError(f"{issued_at.isoformat()} is before the base date {base.date()}")
    if minutes > MAX_TID:
        raise KeyChangeRequired(
            f"the base date {base.date()} ran out of token identifiers on "
            f"{base_rollover(base):%Y-%m-%d %H:%M} UTC; the meter needs a key change"
        )
    return minutes


def tid_to_datetime(tid: int, base: datetime = BASE_2014) -> datetime:
    """The UTC minute a TID stands for."""
    if not 0 <= tid <= MAX_TID:
        raise ValueError("a TID has 24 bits")
    return _utc(base) + timedelta(minutes=tid)
