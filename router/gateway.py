"""The Gateway: the request stages of :mod:`router.stages` composed over one supergraph.

    parse -> validate -> authorize -> coerce variables -> plan -> cost -> execute -> project

A known operation costs two dictionary look-ups (the prepared operation and its cached plan),
variable coercion (only when the operation declares variables), the plan run (subgraph round
trips, in parallel where the plan allows) and one walk of the merged data for the projection.
graphql-core ``execute()`` is never called on this path; only for ``__schema``/``__type``.

Subscriptions (``subscribe``) run the same stages, then one subgraph subscription whose every event runs
the rest of the plan and is projected alone (:mod:`router.execution.subscription`); ``execute`` refuses
them, since a single response cannot carry them.

Status values: ``ok`` (executed; ``data`` present, maybe partial), ``request_error`` (parse,
limits, validation, variable coercion or planning failed: nothing was executed, no ``data``
key), ``method_not_allowed`` (a mutation with ``allow_mutations=False``, i.e. over GET).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from graphql import GraphQLSchema, OperationType

from router.errors import MutationNotAllowed, RequestError
from router.execution import ExecutionOutcome
from router.execution.subscription import Subscriber, subscription_events
from router.planning.query_plan import QueryPlan
from router.stages import (
    AuthorizationOptions,
    DocumentParser,
    InflightQueries,
    OperationAuthorizer,
    OperationLimits,
    OperationPlanner,
    OperationValidator,
    PlanExecutor,
    Planner,
    RequestContext,
    coerce_variables,
    headers_with_claims,
    possible_types,
    project_response,
)
from router.stages.defer import DeferStage
from router.stages.demand import CostEstimator
from router.subgraph_client import HttpSubgraphClient, SubgraphClient
from router.supergraph.access import AccessRules
from router.supergraph.cost import CostRules
from setrum_common import deadline
from setrum_common.closing import aclose as close_resource

__all__ = ["Gateway", "GatewayOptions", "GatewayResult", "Planner"]

_NEEDS_STREAM = (
    "A subscription needs a streaming transport: send it with 'Accept: text/event-stream' (GraphQL over SSE) "
    "or over a graphql-transport-ws WebSocket on the same path."
)


def _no_subscription_error() -> dict[str, Any]:
    return {"message": "Subscriptions are not available on this router", "extensions": {"code": "SUBSCRIPTIONS_OFF"}}


GatewayStatus = Literal["ok", "request_error", "method_not_allowed"]


@dataclass
class GatewayOptions:
    plan_cache_size: int = 1024
    document_cache_size: int = 1024
    subgraph_timeout_s: float = 10.0
    introspection: bool = True
    include_subgraph_errors: bool = True
    planner_max_work: int | None = None
    # Coalesce identical concurrent queries (same text, variables, operation, subgraph
    # headers): one execution, every caller gets the same body. Never applies to mutations.
    dedupe_inflight_queries: bool = False
    limits: OperationLimits = field(default_factory=OperationLimits)
    subgraph_timeouts: dict[str, float] = field(default_factory=dict)
    authorization: AuthorizationOptions = field(default_factory=AuthorizationOptions)


@dataclass
class GatewayResult:
    body: dict[str, Any]
    status: GatewayStatus = "ok"
    # Incremental delivery (@defer): ``body`` is the primary payload and these are the later ones.
    subsequent: AsyncIterator[dict[str, Any]] | None = None


def _refused(err: RequestError) -> GatewayResult:
    """An operation refused before execution: ``data: null`` for an execution failure, else no data."""
    if err.data_null:
        return GatewayResult({"data": None, "errors": err.graphql_errors()})
    return GatewayResult({"errors": err.graphql_errors()}, err.outcome)


class Gateway:
    """A federation gateway over one supergraph.

    ``client`` defaults to an :class:`HttpSubgraphClient` built from the supergraph's subgraph
    URLs; pass one with ``apps=`` to run subgraphs in-process.
    """

    api_schema: GraphQLSchema
    supergraph: Any
    subscriber: Subscriber | None

    def __init__(
        self,
        supergraph_sdl: str | Any,
        *,
        client: SubgraphClient | None = None,
        options: GatewayOptions | None = None,
        subscriber: Subscriber | None = None,
    ) -> None:
        """``subscriber`` opens subgraph subscriptions (none: subscriptions are answered with an error)."""
        from router.planning import build_query_plan
        from router.supergraph import load_supergraph

        # A pre-loaded Supergraph is accepted too (saves a second parse when the caller has one).
        supergraph = load_supergraph(supergraph_sdl) if isinstance(supergraph_sdl, str) else supergraph_sdl
        options = options or GatewayOptions()
        if client is None:
            client = HttpSubgraphClient(
                {name: sub.url for name, sub in supergraph.subgraphs.items()},
                timeout=options.subgraph_timeout_s,
                timeouts=options.subgraph_timeouts,
            )
        self._setup(supergraph, supergraph.api_schema, build_query_plan, client, options)
        self.subscriber = subscriber

    @classmethod
    def from_components(
        cls,
        *,
        api_schema: GraphQLSchema,
        planner: Planner,
        client: SubgraphClient,
        supergraph: Any = None,
        options: GatewayOptions | None = None,
    ) -> Gateway:
        """Build a gateway from an API schema and a planner callable
        ``planner(supergraph, document, operation_name, *, override_labels) -> QueryPlan``."""
        self = cls.__new__(cls)
        self._setup(supergraph, api_schema, planner, client, options or GatewayOptions())
        return self

    def _setup(
        self,
        supergraph: Any,
        api_schema: GraphQLSchema,
        planner: Planner,
        client: SubgraphClient,
        options: GatewayOptions,
    ) -> None:
        self.supergraph = supergraph
        self.api_schema = api_schema
        self.options = options
        self.client = client
        self.subscriber = None
        limits = options.limits
        self._parser = DocumentParser(max_tokens=limits.max_tokens, cache_size=options.document_cache_size)
        self._validator = OperationValidator(
            api_schema,
            self._parser,
            limits=limits,
            introspection=options.introspection,
            cache_size=options.plan_cache_size,
        )
        self._authorizer = OperationAuthorizer(
            api_schema, getattr(supergraph, "access", None) or AccessRules(), options.authorization
        )
        self._cost = CostEstimator(
            api_schema,
            getattr(supergraph, "cost", None) or CostRules(),
            max_cost=limits.max_cost,
            list_size=limits.list_size,
        )
        self._planner = OperationPlanner(supergraph, planner, max_work=options.planner_max_work)
        extra_schema = getattr(supergraph, "schema", None)
        possible = possible_types(api_schema, extra_schema if isinstance(extra_schema, GraphQLSchema) else None)
        self._possible = possible
        self._executor = PlanExecutor(client, possible, include_subgraph_errors=options.include_subgraph_errors)
        self._defer = DeferStage(supergraph, api_schema, self._executor, max_work=options.planner_max_work)
        self._inflight = InflightQueries() if options.dedupe_inflight_queries else None

    # -- cache counters (read by the metrics endpoint and tests) -------------------------

    @property
    def plan_cache_hits(self) -> int:
        return self._planner.hits

    @property
    def plan_cache_misses(self) -> int:
        return self._planner.misses

    @property
    def document_cache_hits(self) -> int:
        return self._parser.cache.hits

    @property
    def document_cache_misses(self) -> int:
        return self._parser.cache.misses

    @property
    def cached_characters(self) -> int:
        """Query text held by the document and operation caches (tests check a flood of long
        refusals leaves nothing behind)."""
        return self._parser.cache_characters() + self._validator.cache_characters()

    @property
    def inflight_coalesced(self) -> int:
        return self._inflight.coalesced if self._inflight is not None else 0

    # -- public API -------------------------------------------------------------------

    def root_fields(self, query: str, operation_name: str | None = None) -> frozenset[str] | None:
        """The root field names the operation selects, from the cached validated operation; None
        when it is refused (its own error comes from :meth:`execute`)."""
        try:
            return self._validator.prepare(query, operation_name).root_fields
        except RequestError:
            return None

    def explain(
        self, query: str, operation_name: str | None = None, *, override_labels: frozenset[str] = frozenset()
    ) -> QueryPlan:
        """The plan for an operation (parse, validate, plan; nothing is executed). Raises a
        :class:`router.errors.RequestError` when the operation is refused."""
        prepared = self._validator.prepare(query, operation_name)
        return self._planner.plan_operation(prepared, operation_name, override_labels)

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        subgraph_headers: Mapping[str, str] | None = None,
        allow_mutations: bool = True,
        include_plan: bool = False,
        override_labels: frozenset[str] = frozenset(),
        claims: Mapping[str, Any] | None = None,
        incremental: bool = False,
    ) -> GatewayResult:
        """Run one operation. ``claims`` are the caller's verified JWT claims (None: anonymous); the
        authorization directives are judged against them. ``incremental``: the client accepts
        ``multipart/mixed`` incremental delivery, so active ``@defer`` s are answered in later
        payloads (``GatewayResult.subsequent``)."""
        ctx = RequestContext(
            query,
            operation_name,
            variables,
            subgraph_headers,
            allow_mutations,
            include_plan,
            override_labels,
            claims=claims,
            incremental=incremental,
        )
        try:
            self._prepare(ctx)
        except RequestError as err:
            return _refused(err)
        if ctx.deferred is not None:
            body, subsequent = await self._defer.respond(ctx)
            return GatewayResult(body, "ok", subsequent)
        if self._inflight is not None and ctx.operation.kind == OperationType.QUERY:
            return await self._inflight.run(ctx, lambda: self._respond(ctx))
        return await self._respond(ctx)

    def _prepare(self, ctx: RequestContext, *, streaming: bool = False) -> None:
        """The stages before any I/O: parse + validate (cached), coerce, plan (cached)."""
        ctx.prepared = prepared = self._validator.prepare(ctx.query, ctx.operation_name)
        if prepared.kind == OperationType.SUBSCRIPTION and not streaming:
            raise RequestError(_NEEDS_STREAM, "SUBSCRIPTION_NEEDS_STREAM")
        if prepared.kind == OperationType.MUTATION and not ctx.allow_mutations:
            raise MutationNotAllowed("Mutations can only be sent over HTTP POST.")
        self._authorizer.authorize(ctx)
        coerce_variables(self.api_schema, ctx, max_errors=self.options.limits.max_validation_errors)
        if not self._defer.plan(ctx):
            self._planner.plan(ctx)
        self._cost.check(ctx)  # after planning: entity fetches count (docs/router.md §6.5)

    async def subscribe(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        subgraph_headers: Mapping[str, str] | None = None,
        allow_mutations: bool = True,
        claims: Mapping[str, Any] | None = None,
    ) -> GatewayResult | AsyncIterator[dict[str, Any]]:
        """A subscription's response bodies, one per event (closing the iterator ends the subgraph
        subscription); or one :class:`GatewayResult` for a refused operation and for a query or mutation,
        which a streaming transport answers as its only event."""
        ctx = RequestContext(query, operation_name, variables, subgraph_headers, allow_mutations, claims=claims)
        try:
            self._prepare(ctx, streaming=True)
        except RequestError as err:
            return _refused(err)
        if ctx.operation.kind != OperationType.SUBSCRIPTION:
            return await self._respond(ctx)
        assert ctx.plan is not None
        if ctx.plan.node is None:  # the root field was not authorized: nothing to subscribe to
            denied = project_response(self.api_schema, ctx, ExecutionOutcome(data={})).get("errors")
            return GatewayResult({"errors": denied or [_no_subscription_error()]}, "request_error")
        if self.subscriber is None:
            return GatewayResult({"errors": [_no_subscription_error()]}, "request_error")
        return self._events(ctx, self.subscriber)

    async def _events(self, ctx: RequestContext, subscriber: Subscriber) -> AsyncIterator[dict[str, Any]]:
        assert ctx.plan is not None
        deadline.clear()  # the opening request's deadline does not bound the stream
        outcomes = subscription_events(
            ctx.plan,
            client=self.client,
            subscriber=subscriber,
            variables=ctx.send_variables,
            conditions=ctx.conditions,
            headers=headers_with_claims(ctx) or {},
            possible_types=self._possible,
            include_subgraph_errors=self.options.include_subgraph_errors,
        )
        try:
            async for outcome in outcomes:
                yield project_response(self.api_schema, ctx, outcome)
        finally:
            await close_resource(outcomes)

    async def _respond(self, ctx: RequestContext) -> GatewayResult:
        outcome = await self._executor.execute(ctx)
        return GatewayResult(project_response(self.api_schema, ctx, outcome), "ok")

    async def aclose(self) -> None:
        await close_resource(self.client)
