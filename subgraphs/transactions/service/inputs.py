"""Checks on what a caller sends: references, whole-rupiah amounts, and who may own a wallet."""

from __future__ import annotations

import re

from setrum_common.auth import Viewer
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.money import whole_rupiah  # the one amount rule every money field shares

__all__ = ["checked_reference", "require_buyer", "whole_rupiah"]

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")


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
