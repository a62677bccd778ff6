"""Opaque cursors for newest-first pages: base64 of ``(createdAt, id)`` or of a ledger id.

Keyset pagination (``WHERE (created_at, id) < cursor``) instead of offsets, so a page never
repeats or skips rows when new purchases arrive between two requests.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from setrum_common.errors import DomainError, ErrorCode

__all__ = ["MAX_PAGE", "encode_time_cursor", "decode_time_cursor", "encode_id_cursor", "decode_id_cursor", "page_size"]

MAX_PAGE = 100


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
        return datetime.fromisoformat(parts[1]), parts[2]
    except ValueError:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "Invalid cursor") from None


def encode_id_cursor(row_id: int) -> str:
    return _b64(f"i|{row_id}")


def decode_id_cursor(cursor: str) -> int:
    kind, _, value = _unb64(cursor).partition("|")
    if kind != "i" or not value.isdigit():
        raise DomainError(ErrorCode.BAD_USER_INPUT, "Invalid cursor")
    return int(value)
