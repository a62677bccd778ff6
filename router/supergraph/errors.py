"""Errors raised while loading a supergraph."""

from __future__ import annotations

__all__ = ["SupergraphError"]


class SupergraphError(Exception):
    """The supergraph SDL is malformed or uses a feature this router does not implement.

    ``code`` is a stable machine-readable reason (``INVALID_SUPERGRAPH``,
    ``UNSUPPORTED_LINKED_FEATURE``).
    """

    def __init__(self, message: str, code: str = "INVALID_SUPERGRAPH") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
