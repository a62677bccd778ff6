"""Stage 5, execute: run the plan against the subgraphs (:mod:`router.execution.executor`).

:class:`InflightQueries` optionally coalesces identical concurrent queries (same text,
variables, operation, subgraph headers): one execution, every caller gets the same body.
It never applies to mutations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import orjson
from graphql import GraphQLInterfaceType, GraphQLSchema, GraphQLUnionType

from router.execution import ExecutionOutcome, execute_plan
from router.planning.query_plan import PlanNode, QueryPlan
from router.subgraph_client import InflightShare, SubgraphClient
from setrum_common.trust import CLAIMS_HEADER, encode_claims

from .request_context import RequestContext

__all__ = ["InflightQueries", "PlanExecutor", "headers_with_claims", "possible_types"]

T = TypeVar("T")


class PlanExecutor:
    def __init__(
        self, client: SubgraphClient, possible: dict[str, frozenset[str]], *, include_subgraph_errors: bool
    ) -> None:
        self.client = client
        self._possible = possible
        self._include_subgraph_errors = include_subgraph_errors

    async def execute(self, ctx: RequestContext) -> ExecutionOutcome:
        assert ctx.plan is not None, "the plan stage runs first"
        return await self._run(ctx, ctx.plan, None)

    async def execute_part(self, ctx: RequestContext, node: PlanNode, data: dict[str, Any]) -> ExecutionOutcome:
        """One deferred part of ``ctx``'s plan, continuing from the merged ``data`` (router/stages/defer.py)."""
        return await self._run(ctx, QueryPlan(node=node), data)

    async def _run(self, ctx: RequestContext, plan: QueryPlan, data: dict[str, Any] | None) -> ExecutionOutcome:
        return await execute_plan(
            plan,
            client=self.client,
            variables=ctx.send_variables,
            conditions=ctx.conditions,
            headers=headers_with_claims(ctx),
            possible_types=self._possible,
            include_subgraph_errors=self._include_subgraph_errors,
            data=data,
        )


def headers_with_claims(ctx: RequestContext) -> Mapping[str, str] | None:
    """The subgraph headers plus the verified claims, which travel in their own header (signed
    with the request when the router signs: setrum_common/trust/)."""
    if ctx.claims is None:
        return ctx.subgraph_headers
    return {**(ctx.subgraph_headers or {}), CLAIMS_HEADER: _claims_header(ctx.claims)}


# The claims header per claims object: the authentication layer hands every request with the same token
# the same verified claims object (its memo, until the token expires), so the header (sorted JSON,
# base64url: a few µs) is encoded once per token. Keyed by identity and holding the object, so an id is
# never reused while its entry lives; claims are never modified after verification. Cleared when full.
_ENCODED_MAX = 4096
_encoded: dict[int, tuple[Mapping[str, Any], str]] = {}


def _claims_header(claims: Mapping[str, Any]) -> str:
    hit = _encoded.get(id(claims))
    if hit is not None and hit[0] is claims:
        return hit[1]
    encoded = encode_claims(claims)
    if len(_encoded) >= _ENCODED_MAX:
        _encoded.clear()
    _encoded[id(claims)] = (claims, encoded)
    return encoded


class InflightQueries:
    """Shares one execution between identical concurrent requests."""

    def __init__(self) -> None:
        self._share: InflightShare[Any] = InflightShare()

    @property
    def coalesced(self) -> int:
        return self._share.shared

    async def run(self, ctx: RequestContext, respond: Callable[[], Awaitable[T]]) -> T:
        # The shared execution runs as its own task, so a caller that goes away (client
        # disconnect) does not cancel it for the others.
        result: T = await self._share.run(_key(ctx), respond)
        return result


def _key(ctx: RequestContext) -> tuple[Any, ...]:
    send = ctx.send_variables
    headers: Mapping[str, str] | None = ctx.subgraph_headers
    return (
        ctx.query,
        ctx.operation_name,
        orjson.dumps(send, option=orjson.OPT_SORT_KEYS) if send else b"",
        tuple(sorted(headers.items())) if headers else (),
        ctx.include_plan,
        ctx.override_labels,
        orjson.dumps(ctx.claims, option=orjson.OPT_SORT_KEYS) if ctx.claims else b"",  # authorization differs
    )


def possible_types(*schemas: GraphQLSchema | None) -> dict[str, frozenset[str]]:
    """Abstract type -> the object types that may appear for it, across ``schemas``."""
    out: dict[str, frozenset[str]] = {}
    for schema in schemas:
        if schema is None:
            continue
        for name, gtype in schema.type_map.items():
            if isinstance(gtype, (GraphQLInterfaceType, GraphQLUnionType)):
                members = frozenset(t.name for t in schema.get_possible_types(gtype))
                out[name] = out.get(name, frozenset()) | members
    return out
