"""Stage 4, plan: the query plan for the prepared operation, cached on it per override-label set.

Planning failures are cached too, so a hopeless operation is not planned again. After the plan,
variables holding enum values some subgraph does not define are refused
(:mod:`router.planning.enums`): that check needs the plan to know which subgraph gets what.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from router.errors import PlanningError, RequestError
from router.planning.enums import check_enum_variables
from router.planning.query_plan import QueryPlan

from .request_context import PreparedOperation, RequestContext

__all__ = ["OperationPlanner", "Planner", "planning_failure"]

#: ``planner(supergraph, document, operation_name, *, override_labels[, max_work]) -> QueryPlan``
Planner = Callable[..., QueryPlan]

_PLANS_PER_OPERATION = 16  # distinct override-label sets kept per operation
_FALLBACK_CODE = "QUERY_PLANNING_FAILED"
logger = logging.getLogger("router.planning")


class OperationPlanner:
    def __init__(self, supergraph: Any, planner: Planner, *, max_work: int | None) -> None:
        self._supergraph = supergraph
        self._planner = planner
        self._max_work = max_work
        self.hits = 0
        self.misses = 0

    def plan(self, ctx: RequestContext) -> QueryPlan:
        """Set and return ``ctx.plan``; raises :class:`PlanningError` (or a request error for
        enum variables a subgraph cannot take)."""
        plan = self.plan_operation(ctx.operation, ctx.operation_name, ctx.override_labels)
        enum_checks = plan.extra.get("enum_checks")
        if enum_checks:
            errors = check_enum_variables(enum_checks, ctx.send_variables)
            if errors:
                raise RequestError(errors[0]["message"], errors=errors)
        ctx.plan = plan
        return plan

    def plan_operation(
        self, prepared: PreparedOperation, operation_name: str | None, labels: frozenset[str]
    ) -> QueryPlan:
        cached = prepared.plans.get(labels)
        if cached is not None:
            self.hits += 1
        else:
            self.misses += 1
            cached = self._build(prepared, operation_name, labels)
            if len(prepared.plans) < _PLANS_PER_OPERATION:
                prepared.plans[labels] = cached
        if isinstance(cached, Exception):
            raise cached.with_traceback(None)
        return cached

    def _build(
        self, prepared: PreparedOperation, operation_name: str | None, labels: frozenset[str]
    ) -> QueryPlan | Exception:
        if prepared.planning_document is None:
            return QueryPlan(node=None)  # introspection only: nothing to fetch
        extra: dict[str, Any] = {} if self._max_work is None else {"max_work": self._max_work}
        try:
            return self._planner(
                self._supergraph, prepared.planning_document, operation_name, override_labels=labels, **extra
            )
        except Exception as exc:
            return planning_failure(exc, operation_name)


def planning_failure(exc: Exception, operation_name: str | None) -> Exception:
    """What the client is told when planning raised ``exc``."""
    if isinstance(exc, RequestError):
        return exc
    # A planner bug must not become a 500: report it as a planning failure.
    code = _code_of(exc)
    if code != _FALLBACK_CODE or getattr(exc, "code", None) == _FALLBACK_CODE:
        return PlanningError(str(exc) or type(exc).__name__, code)  # a coded, deliberate refusal
    # A bug: its text may show internals, so it goes to the log only (error masking).
    logger.exception("query planning failed for operation %r", operation_name, exc_info=exc)
    return PlanningError("The router could not plan this operation (details in the router log)", code)


def _code_of(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    if not isinstance(code, str):
        ext = getattr(exc, "extensions", None)
        code = ext.get("code") if isinstance(ext, dict) else None
    return code if isinstance(code, str) else _FALLBACK_CODE
