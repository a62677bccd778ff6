"""Checks on what a caller sends: references, whole-rupiah amounts, months, and who may own a wallet."""

from __future__ import annotations

import re
from datetime import datetime

from setrum_common.auth import Viewer
from setrum_common.clock import jakarta_month, utc_now
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.money import whole_rupiah  # the one amount rule every money field shares

__all__ = ["checked_reference", "parse_month", "require_buyer", "whole_rupiah"]

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEARS = range(1970, 9999)  # a month whose bounds exist as UTC instants (9999-12 ends in year 10000)


def checked_reference(value: str, field: str) -> str:
    value = (value or "").strip()
    if not _REFERENCE.match(value):
        raise DomainError(
            ErrorCode.BAD_USER_INPUT,
            f"{field} must be 1-64 characters: letters, digits, '.', '_', ':' or '-'",
        )
    return value


def require_buyer(viewer: Viewer) -> str:
    """The signed-in customer (or admin) acting for themselves; services cannot own a wallet."""
    viewer.require_authenticated()
    if viewer.customer_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only a signed-in customer has a wallet")
    return viewer.customer_id


def parse_month(month: str | None, *, now: datetime | None = None) -> str:
    """Validate ``YYYY-MM`` (default: the current Jakarta month)."""
    if month is None:
        return jakarta_month(now or utc_now())
    if not _MONTH.match(month) or int(month[:4]) not in _YEARS:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"month must look like 2026-01 (years {_YEARS[0]} to {_YEARS[-1]})")
    return month
