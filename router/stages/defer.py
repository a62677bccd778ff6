"""The defer stage: plan and answer an operation with active ``@defer`` s incrementally
(docs/router.md §10 @defer and incremental delivery).

``plan`` runs in place of the plan stage when the prepared operation has ``@defer`` sites: it works
out which are active for this request (:func:`router.defer.active_sites`). None active (the client
does not accept ``multipart/mixed``, ``if: false``): the ordinary plan, whose document has no
``@defer`` left, and the client gets the whole result in one response. Otherwise the plan is split
(:mod:`router.planning.defer`), cached on the prepared operation per (override labels, active set).

``respond`` runs the primary part, projects it without the deferred fragments, and hands back an
iterator of the later payloads (:mod:`router.execution.incremental`), which run only once the
primary response is on its way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLSchema

from router.defer import DeferInfo, active_sites, strip_defers
from router.errors import RequestError
from router.execution import OperationProjection
from router.execution.incremental import DeferredDelivery
from router.execution.projection import FragmentProjection
from router.planning.defer import DeferredPlan, build_deferred_plan
from router.planning.enums import check_enum_variables
from router.planning.printer import plan_to_json
from router.planning.query_plan import PlanNode, QueryPlan

from .execute import PlanExecutor
from .plan import planning_failure
from .project import project_response
from .request_context import RequestContext

__all__ = ["ActiveDefers", "DeferStage"]

_PLANS_PER_OPERATION = 16


@dataclass(frozen=True, slots=True)
class ActiveDefers:
    """What ``ctx.deferred`` holds for a request answered incrementally."""

    info: DeferInfo
    active: frozenset[int]
    plan: DeferredPlan


class DeferStage:
    def __init__(
        self,
        supergraph: Any,
        schema: GraphQLSchema,
        executor: PlanExecutor,
        *,
        max_work: int | None,
        planner: Callable[..., DeferredPlan] = build_deferred_plan,
    ) -> None:
        self._supergraph = supergraph
        self._schema = schema
        self._executor = executor
        self._max_work = max_work
        self._planner = planner

    def plan(self, ctx: RequestContext) -> bool:
        """Plan ``ctx`` with its active ``@defer`` s (sets ``ctx.plan`` and ``ctx.deferred``); False when
        none is active, for the ordinary plan stage to run instead."""
        prepared = ctx.operation
        info = prepared.defer
        if info is None or info.planning_document is None or self._supergraph is None:
            return False
        active = active_sites(info.sites, ctx.conditions, incremental=ctx.incremental, kind=prepared.kind.value)
        if not active:
            return False
        key = (ctx.override_labels, active)
        cached = info.plans.get(key)
        if cached is None:
            cached = self._build(info, ctx.operation_name, ctx.override_labels, active)
            if len(info.plans) < _PLANS_PER_OPERATION:
                info.plans[key] = cached
        if isinstance(cached, Exception):
            raise cached.with_traceback(None)
        enum_checks = cached.primary.extra.get("enum_checks")
        if enum_checks:
            errors = check_enum_variables(enum_checks, ctx.send_variables)
            if errors:
                raise RequestError(errors[0]["message"], errors=errors)
        ctx.plan = cached.primary
        ctx.deferred = ActiveDefers(info, active, cached)
        return True

    def _build(
        self, info: DeferInfo, operation_name: str | None, labels: frozenset[str], active: frozenset[int]
    ) -> DeferredPlan | Exception:
        assert info.planning_document is not None
        document = strip_defers(info.planning_document, keep=active)
        extra: dict[str, Any] = {} if self._max_work is None else {"max_work": self._max_work}
        try:
            return self._planner(self._supergraph, document, operation_name, override_labels=labels, **extra)
        except Exception as exc:
            return planning_failure(exc, operation_name)

    async def respond(self, ctx: RequestContext) -> tuple[dict[str, Any], AsyncIterator[dict[str, Any]]]:
        """The primary payload (``hasNext`` set) and the iterator of the later ones."""
        deferred: ActiveDefers = ctx.deferred
        prepared = ctx.operation
        outcome = await self._executor.execute(ctx)
        projection = deferred.info.projections.get(deferred.active)
        if projection is None:
            projection = OperationProjection(
                self._schema,
                prepared.operation,
                prepared.fragments,
                denied=prepared.projection.denied,
                deferred=deferred.active,
            )
            if len(deferred.info.projections) < _PLANS_PER_OPERATION:
                deferred.info.projections[deferred.active] = projection
        body = project_response(self._schema, ctx, outcome, projection)
        if ctx.include_plan and isinstance(body.get("extensions"), dict):
            body["extensions"]["queryPlan"] = _plan_json(deferred)
        primary = body.get("data")
        if primary is None:  # nothing to hang the deferred fragments on
            body["hasNext"] = False
            return body, _nothing()
        body["hasNext"] = True
        data = outcome.data

        async def run_part(node: PlanNode) -> Any:
            return await self._executor.execute_part(ctx, node, data)

        delivery = DeferredDelivery(
            sites=deferred.info.sites,
            active=deferred.active,
            parts=deferred.plan.parts,
            run_part=run_part,
            data=data,
            primary=primary,
            covered=outcome.covered,
            projector=FragmentProjection(
                self._schema,
                prepared.fragments,
                ctx.conditions,
                denied=prepared.projection.denied,
                deferred=deferred.active,
            ),
            root_type=projection.root_type.name,
        )
        return body, delivery.payloads()


def _plan_json(deferred: ActiveDefers) -> dict[str, Any]:
    """The plan as the ``x-setrum-query-plan`` extension shows it: a ``Defer`` node with the primary
    plan and one entry per deferred fragment (shaped like Apollo Router's)."""
    entries: list[dict[str, Any]] = []
    for sid in sorted(deferred.active):
        site = deferred.info.sites[sid]
        node = deferred.plan.parts.get(sid)
        depends = sorted(
            {next((a for a, _ in reversed(loc.ancestors) if a in deferred.active), 0) for loc in site.locations}
        )
        entries.append(
            {
                "id": sid,
                "label": site.label,
                "depends": [d for d in depends if d],
                "queryPaths": [list(loc.path) for loc in site.locations],
                "node": plan_to_json(QueryPlan(node=node))["node"] if node is not None else None,
            }
        )
    primary = plan_to_json(deferred.plan.primary)["node"]
    return {"kind": "QueryPlan", "node": {"kind": "Defer", "primary": {"node": primary}, "deferred": entries}}


async def _nothing() -> AsyncIterator[dict[str, Any]]:
    return
    yield  # an empty async generator
