"""Running a subscription plan: one subgraph subscription, then the rest of the plan for every event.

A subscription's plan is a query plan whose first fetch (the *primary*) is a ``subscription`` operation to the
subgraph owning the root field; whatever follows it (entity fetches to other subgraphs for the fields the event
type gets elsewhere) is the same as for a query. So the router opens the primary as a subscription
(:class:`router.subgraph_client.SubgraphSubscriber`) and, for each event, runs the whole plan with the primary
fetch answered by that event and every other fetch sent as usual (:class:`_EventClient`). The event's errors,
rewrites and merging therefore follow exactly the rules of a query's root fetch (docs/router.md §11 Subscriptions).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from router.planning.query_plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
)
from router.subgraph_client import SubgraphClient, SubgraphFetchError
from setrum_common.closing import aclose

from .executor import FETCH_FAILED_CODE, ExecutionOutcome, execute_plan
from .paths import PossibleTypes

__all__ = ["Subscriber", "primary_fetch", "subscription_events"]


class Subscriber(Protocol):
    def subscribe(
        self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]
    ) -> AsyncIterator[dict[str, Any]]: ...


def primary_fetch(plan: QueryPlan) -> FetchNode | None:
    """The plan's ``subscription`` fetch (there is one: a subscription selects one root field)."""
    found: list[FetchNode] = []

    def walk(node: PlanNode | None) -> None:
        if node is None:
            return
        if isinstance(node, FetchNode):
            if node.operation_kind == "subscription":
                found.append(node)
        elif isinstance(node, FlattenNode):
            walk(node.node)
        elif isinstance(node, SequenceNode | ParallelNode):
            for child in node.nodes:
                walk(child)
        elif isinstance(node, ConditionNode):
            walk(node.if_clause)
            walk(node.else_clause)

    walk(plan.node)
    return found[0] if len(found) == 1 else None


class _EventClient:
    """Answers the primary fetch with the event the subgraph sent; every other fetch goes to ``inner``."""

    __slots__ = ("_event", "_inner", "_primary")

    def __init__(self, inner: SubgraphClient, primary: FetchNode, event: dict[str, Any]) -> None:
        self._inner = inner
        self._primary = primary
        self._event = event

    async def fetch(self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        if subgraph == self._primary.service_name and body.get("query") == self._primary.operation:
            return self._event
        return await self._inner.fetch(subgraph, body, headers)


async def subscription_events(
    plan: QueryPlan,
    *,
    client: SubgraphClient,
    subscriber: Subscriber,
    variables: Mapping[str, Any],
    conditions: Mapping[str, Any],
    headers: Mapping[str, str],
    possible_types: PossibleTypes,
    include_subgraph_errors: bool,
) -> AsyncIterator[ExecutionOutcome]:
    """One merged (not yet projected) outcome per subgraph event, until the subgraph completes. A subgraph
    that cannot be subscribed to, or whose socket fails, ends the stream with one ``SUBGRAPH_FETCH_FAILED``
    outcome. Closing this generator closes the subgraph subscription."""
    primary = primary_fetch(plan)
    if primary is None:
        raise ValueError("not a subscription plan")
    body: dict[str, Any] = {
        "query": primary.operation,
        "variables": {name: variables[name] for name in primary.variable_usages if name in variables},
    }
    if primary.operation_name:
        body["operationName"] = primary.operation_name
    events = subscriber.subscribe(primary.service_name, body, headers)
    try:
        async for event in events:
            yield await execute_plan(
                plan,
                client=_EventClient(client, primary, event),
                variables=variables,
                conditions=conditions,
                headers=headers,
                possible_types=possible_types,
                include_subgraph_errors=include_subgraph_errors,
            )
    except SubgraphFetchError as exc:
        error = {
            "message": f"Subscription to '{exc.subgraph}' failed: {exc.reason}",
            "extensions": {"code": FETCH_FAILED_CODE, "serviceName": exc.subgraph},
        }
        yield ExecutionOutcome(data={}, errors=[error], covered=[()])
    finally:
        with contextlib.suppress(Exception):
            await aclose(events)
