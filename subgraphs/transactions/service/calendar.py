"""Jakarta calendar months and the monthly kWh cap.

Month boundaries of the cap are Asia/Jakarta calendar months (UTC+7; Indonesia has no DST).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from setrum_common.errors import DomainError, ErrorCode

from ..models import utcnow

__all__ = ["JAKARTA", "jakarta_month", "month_bounds", "monthly_limit_tenths", "parse_month"]

JAKARTA = timezone(timedelta(hours=7), "Asia/Jakarta")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEARS = range(1970, 9999)  # a month whose bounds exist as UTC instants (9999-12 ends in year 10000)


def jakarta_month(at: datetime) -> str:
    return at.astimezone(JAKARTA).strftime("%Y-%m")


def parse_month(month: str | None, *, now: datetime | None = None) -> str:
    """Validate ``YYYY-MM`` (default: the current Jakarta month)."""
    if month is None:
        return jakarta_month(now or utcnow())
    if not _MONTH.match(month) or int(month[:4]) not in _YEARS:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"month must look like 2026-01 (years {_YEARS[0]} to {_YEARS[-1]})")
    return month


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants where a Jakarta calendar month starts and ends (end exclusive)."""
    year, mon = int(month[:4]), int(month[5:7])
    start = datetime(year, mon, 1, tzinfo=JAKARTA)
    end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=JAKARTA)
    return start.astimezone(UTC), end.astimezone(UTC)


def monthly_limit_tenths(power_va: int) -> int:
    """VA / 1000 × 720 kWh, in tenths of a kWh (900 VA -> 648.0 kWh)."""
    return power_va * 72 // 10
