"""Opaque cursors for newest-first pages: base64 of ``(createdAt, id)`` or of a ledger id.

Keyset pagination (``WHERE (created_at, id) < cursor``) instead of offsets, so a page never
repeats or skips rows when new purchases arrive between two requests.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from setrum_common.errors import DomainError, ErrorCode

__all__ = [
    "MAX_PAGE",
    "decode_id_cursor",
    "decode_time_cursor",
    "encode_id_cursor",
    "encode_time_cursor",
    "page_size",
    "time_filter",
]

MAX_PAGE = 100
_MAX_ROW_ID = 2**63 - 1  # a BIGINT; a larger id cannot even be bound as a parameter
# Cursors we issue hold real row times; anything this close to datetime's ends is forged, and
# converting it to UTC or binding it would overflow.
_EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=2)
_LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)


def page_size(first: int | None, default: int = 20) -> int:
    size = default if first is None else first
    if size < 0 or size > MAX_PAGE:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"first must be between 0 and {MAX_PAGE}")
    return size


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "Invalid cursor") from None


def encode_time_cursor(created_at: datetime, row_id: str) -> str:
    return _b64(f"t|{created_at.astimezone(UTC).isoformat()}|{row_id}")


def decode_time_cursor(cursor: str) -> tuple[datetime, str]:
    parts = _unb64(cursor).split("|")
    if len(parts) != 3 or parts[0] != "t":
        raise DomainError(ErrorCode.BAD_USER_INPUT, "Invalid cursor")
    try:
        at = datetime.fromisoformat(parts[1])
    except ValueError:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "Invalid cursor") from None
    if at.tzinfo is None or not _EARLIEST <= at <= _LATEST:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "Invalid cursor")
    return at.astimezone(UTC), parts[2]


def time_filter(value: datetime | None, name: str) -> datetime | None:
    """A ``from``/``to`` argument as UTC; a naive time is taken as UTC, one at the calendar's ends is refused."""
    if value is None:
        return None
    at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not _EARLIEST <= at <= _LATEST:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"{name} is outside the supported range of times")
    return at.astimezone(UTC)


def encode_id_cursor(row_id: int) -> str:
    return _b64(f"i|{row_id}")


def decode_id_cursor(cursor: str) -> int:
    kind, _, value = _unb64(cursor).partition("|")
    # isascii: str.isdigit() also accepts digits int() refuses, such as "²"
    if kind != "i" or not (value.isascii() and value.isdigit()) or int(value) > _MAX_ROW_ID:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "Invalid cursor")
    return int(value)
