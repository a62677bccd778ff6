"""Errors of the planning stage."""

from __future__ import annotations

__all__ = ["PlanningError"]


class PlanningError(Exception):
    """The operation cannot be planned.

    ``code``: ``UNSATISFIABLE`` (no subgraph path resolves a field), ``PLANNING_LIMIT_EXCEEDED``
    (the work bound was hit), or an operation-stage code such as ``GRAPHQL_VALIDATION_FAILED``.
    """

    def __init__(self, message: str, code: str = "UNSATISFIABLE") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
