"""The planning stage: (Supergraph, operation) -> QueryPlan. Pure; no I/O.

Entry point: :func:`build_query_plan`. The plan format lives in :mod:`router.planning.query_plan`
(the executor's contract); :mod:`router.planning.printer` prints plans as text/JSON.
"""

from __future__ import annotations

from router.errors import PlanningError

from .planner import build_query_plan
from .printer import plan_to_json, plan_to_text
from .query_plan import QueryPlan

__all__ = ["build_query_plan", "PlanningError", "QueryPlan", "plan_to_text", "plan_to_json"]
