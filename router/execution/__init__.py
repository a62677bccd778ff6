"""Execution stage: run a QueryPlan over the subgraphs, then project the client's response.

``execute_plan`` fetches and merges (entity batching, de-duplication, error re-pathing);
``OperationProjection`` shapes the merged data as the client asked (aliases, fragments,
skip/include, enum checks, null propagation).
"""

from __future__ import annotations

from .deep_merge import deep_merge
from .executor import (
    DOWNSTREAM_ERROR_CODE,
    FETCH_FAILED_CODE,
    ExecutionOutcome,
    execute_plan,
)
from .introspection import run_introspection, split_introspection
from .projection import OperationProjection, ProjectionResult

__all__ = [
    "DOWNSTREAM_ERROR_CODE",
    "ExecutionOutcome",
    "FETCH_FAILED_CODE",
    "OperationProjection",
    "ProjectionResult",
    "deep_merge",
    "execute_plan",
    "run_introspection",
    "split_introspection",
]
