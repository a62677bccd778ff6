"""Errors of the operation stage."""

from __future__ import annotations

__all__ = ["OperationError"]


class OperationError(Exception):
    """The client operation cannot be normalised (unknown operation name, too large...)."""

    def __init__(self, message: str, code: str = "GRAPHQL_VALIDATION_FAILED") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
