"""A policy function for the ``python:`` policy test."""

from collections.abc import Mapping
from typing import Any


def is_staff(claims: Mapping[str, Any] | None) -> bool:
    return claims is not None and claims.get("staff") is True
