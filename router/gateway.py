"""The Gateway: parse/validate -> plan -> execute -> project, with caches in front.

Per request, a known operation costs two dict lookups (document + prepared operation with
its cached plan), variable coercion (only when the operation declares variables), the plan
run (subgraph round trips, in parallel where the plan allows) and one walk of the merged data
for the final projection. graphql-core ``execute()`` is never called on this path; it is used
only for ``__schema``/``__type`` introspection fields.

Status values: ``ok`` (executed; ``data`` present, maybe partial), ``request_error`` (parse,
validation, variable coercion or planning failed: nothing was executed, no ``data`` key),
``method_not_allowed`` (a mutation with ``allow_mutations=False``, i.e. over GET).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    validate,
    value_from_ast_untyped,
)
from graphql.execution.values import get_variable_values

from router.execution import (
    OperationProjection,
    execute_plan,
    run_introspection,
    split_introspection,
)
from router.planning.plan import QueryPlan
from router.planning.printer import plan_to_json
from router.subgraph_client import HttpSubgraphClient, SubgraphClient

__all__ = [
    "Gateway",
    "GatewayOptions",
    "GatewayRequestError",
    "GatewayResult",
    "Planner",
]

GatewayStatus = Literal["ok", "request_error", "method_not_allowed"]
Planner = Callable[..., QueryPlan]

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
PLANNING_FAILED = "QUERY_PLANNING_FAILED"


@dataclass
class GatewayOptions:
    plan_cache_size: int = 1024
    document_cache_size: int = 1024
    subgraph_timeout_s: float = 10.0
    introspection: bool = True
    include_subgraph_errors: bool = True
    max_planning_ms: float | None = None  # reserved: the planner is bounded by work units, see planner_max_work
    planner_max_work: int | None = None
    # Coalesce identical concurrent queries (same text, variables, operation, subgraph
    # headers): one execution, every caller gets the same body. Never applies to mutations.
    dedupe_inflight_queries: bool = False
    max_validation_errors: int = 100
    subgraph_timeouts: dict[str, float] = field(default_factory=dict)


@dataclass
class GatewayResult:
    body: dict[str, Any]
    status: GatewayStatus = "ok"


class GatewayRequestError(Exception):
    """Raised by :meth:`Gateway.explain` when the operation cannot be planned."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "request error")
        self.errors = errors


K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    __slots__ = ("_data", "_max")

    def __init__(self, maxsize: int) -> None:
        self._data: OrderedDict[K, V] = OrderedDict()
        self._max = max(1, maxsize)

    def get(self, key: K) -> V | None:
        data = self._data
        value = data.get(key)
        if value is not None:
            data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        data = self._data
        data[key] = value
        data.move_to_end(key)
        if len(data) > self._max:
            data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()


def _error(message: str, code: str, locations: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"message": message}
    if locations:
        out["locations"] = locations
    out["extensions"] = {"code": code}
    return out


def _graphql_error(err: GraphQLError, code: str) -> dict[str, Any]:
    formatted = dict(err.formatted)
    ext = dict(formatted.get("extensions") or {})
    ext.setdefault("code", code)
    formatted["extensions"] = ext
    formatted.pop("path", None)
    return formatted


class _Prepared:
    """Everything per (query, operation name) that does not depend on variable values."""

    __slots__ = (
        "document",
        "operation",
        "kind",
        "var_defs",
        "defaults",
        "projection",
        "intro_document",
        "planning_document",
        "plans",
    )

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.document = document
        self.operation = operation
        self.kind = operation.operation
        self.var_defs = tuple(operation.variable_definitions or ())
        self.defaults: dict[str, Any] = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in self.var_defs
            if d.default_value is not None
        }
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.projection = OperationProjection(schema, operation, fragments)
        self.intro_document, self.planning_document = split_introspection(document, operation)
        self.plans: dict[frozenset[str], QueryPlan | Exception] = {}


class Gateway:
    """A federation gateway over one supergraph.

    ``client`` defaults to an :class:`HttpSubgraphClient` built from the supergraph's subgraph
    URLs; pass one with ``apps=`` to run subgraphs in-process.
    """

    api_schema: GraphQLSchema
    supergraph: Any

    def __init__(
        self,
        supergraph_sdl: str | Any,
        *,
        client: SubgraphClient | None = None,
        options: GatewayOptions | None = None,
    ) -> None:
        from router.planning import build_query_plan  # noqa: PLC0415 - planner lands separately
        from router.supergraph import load_supergraph  # noqa: PLC0415

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
        self, supergraph: Any, api_schema: GraphQLSchema, planner: Planner, client: SubgraphClient, options: GatewayOptions
    ) -> None:
        self.supergraph = supergraph
        self.api_schema = api_schema
        self.options = options
        self.client = client
        self._planner = planner
        self._documents: _LRU[str, tuple[DocumentNode | None, list[dict[str, Any]]]] = _LRU(options.document_cache_size)
        self._prepared: _LRU[tuple[str, str | None], _Prepared | list[dict[str, Any]]] = _LRU(options.plan_cache_size)
        self.plan_cache_hits = 0
        self.plan_cache_misses = 0
        self.document_cache_hits = 0
        self.document_cache_misses = 0
        self.inflight_coalesced = 0
        self._inflight: dict[Any, asyncio.Future[GatewayResult]] = {}
        self._possible = _possible_types(api_schema)
        extra_schema = getattr(supergraph, "schema", None)
        if isinstance(extra_schema, GraphQLSchema):
            for name, members in _possible_types(extra_schema).items():
                self._possible[name] = self._possible.get(name, frozenset()) | members

    # -- preparation ------------------------------------------------------------------

    def _document(self, query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
        cached = self._documents.get(query)
        if cached is not None:
            self.document_cache_hits += 1
            return cached
        self.document_cache_misses += 1
        try:
            document = parse(query, no_location=False)
        except GraphQLError as err:
            entry: tuple[DocumentNode | None, list[dict[str, Any]]] = (None, [_graphql_error(err, PARSE_FAILED)])
        else:
            errors = validate(self.api_schema, document, max_errors=self.options.max_validation_errors)
            entry = (document, [_graphql_error(e, VALIDATION_FAILED) for e in errors])
        self._documents.put(query, entry)
        return entry

    def _prepare(self, query: str, operation_name: str | None) -> _Prepared | list[dict[str, Any]]:
        key = (query, operation_name)
        prepared = self._prepared.get(key)
        if prepared is not None:
            return prepared
        document, errors = self._document(query)
        result: _Prepared | list[dict[str, Any]]
        if document is None or errors:
            result = errors
        else:
            operation = get_operation_ast(document, operation_name)
            if operation is None:
                if operation_name:
                    message = f"Unknown operation named '{operation_name}'."
                else:
                    message = "Must provide operation name if query contains multiple operations."
                result = [_error(message, VALIDATION_FAILED)]
            elif operation.operation == OperationType.SUBSCRIPTION:
                result = [_error("Subscriptions are not supported by this router.", VALIDATION_FAILED)]
            else:
                prepared_op = _Prepared(self.api_schema, document, operation)
                if prepared_op.intro_document is not None and not self.options.introspection:
                    result = [
                        _error(
                            "GraphQL introspection is not allowed, but the query contained __schema or __type.",
                            VALIDATION_FAILED,
                        )
                    ]
                else:
                    result = prepared_op
        self._prepared.put(key, result)
        return result

    def _plan(self, prepared: _Prepared, operation_name: str | None, labels: frozenset[str]) -> QueryPlan:
        cached = prepared.plans.get(labels)
        if cached is not None:
            self.plan_cache_hits += 1
            if isinstance(cached, Exception):
                raise cached  # planning failures are cached too: never re-plan a hopeless operation
            return cached
        self.plan_cache_misses += 1
        try:
            plan = self._build_plan(prepared, operation_name, labels)
        except Exception as exc:
            if len(prepared.plans) < 16:
                prepared.plans[labels] = exc
            raise
        if len(prepared.plans) < 16:
            prepared.plans[labels] = plan
        return plan

    def _build_plan(self, prepared: _Prepared, operation_name: str | None, labels: frozenset[str]) -> QueryPlan:
        if prepared.planning_document is None:
            plan = QueryPlan(node=None)
        else:
            if self.options.planner_max_work is not None:
                plan = self._planner(
                    self.supergraph,
                    prepared.planning_document,
                    operation_name,
                    override_labels=labels,
                    max_work=self.options.planner_max_work,
                )
            else:
                plan = self._planner(self.supergraph, prepared.planning_document, operation_name, override_labels=labels)
        return plan

    # -- public API -------------------------------------------------------------------

    def explain(
        self, query: str, operation_name: str | None = None, *, override_labels: frozenset[str] = frozenset()
    ) -> QueryPlan:
        prepared = self._prepare(query, operation_name)
        if not isinstance(prepared, _Prepared):
            raise GatewayRequestError(list(prepared))
        try:
            return self._plan(prepared, operation_name, override_labels)
        except Exception as exc:
            raise GatewayRequestError([_planning_error(exc)]) from exc

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
    ) -> GatewayResult:
        prepared = self._prepare(query, operation_name)
        if not isinstance(prepared, _Prepared):
            return GatewayResult({"errors": list(prepared)}, "request_error")
        if prepared.kind == OperationType.MUTATION and not allow_mutations:
            return GatewayResult(
                {"errors": [_error("Mutations can only be sent over HTTP POST.", "METHOD_NOT_ALLOWED")]},
                "method_not_allowed",
            )
        if variables is None:
            variables = {}
        elif not isinstance(variables, dict):
            return GatewayResult({"errors": [_error("Variables must be a JSON object.", BAD_USER_INPUT)]}, "request_error")
        if prepared.var_defs:
            coerced_or_errors = get_variable_values(
                self.api_schema, prepared.var_defs, variables, max_errors=self.options.max_validation_errors
            )
            if isinstance(coerced_or_errors, list):
                return GatewayResult(
                    {"errors": [_graphql_error(e, BAD_USER_INPUT) for e in coerced_or_errors]}, "request_error"
                )
            conditions: Mapping[str, Any] = getattr(coerced_or_errors, "coerced", coerced_or_errors)
            if prepared.defaults:
                send_vars = dict(prepared.defaults)
                send_vars.update(variables)
            else:
                send_vars = variables
        else:
            conditions = send_vars = {}
        try:
            plan = self._plan(prepared, operation_name, override_labels)
        except Exception as exc:
            return GatewayResult({"errors": [_planning_error(exc)]}, "request_error")
        enum_checks = plan.extra.get("enum_checks")
        if enum_checks:
            from router.planning.enums import check_enum_variables  # noqa: PLC0415

            enum_errors = check_enum_variables(enum_checks, send_vars)
            if enum_errors:
                return GatewayResult({"errors": enum_errors}, "request_error")

        if self.options.dedupe_inflight_queries and prepared.kind == OperationType.QUERY:
            key = (
                query,
                operation_name,
                orjson.dumps(send_vars, option=orjson.OPT_SORT_KEYS) if send_vars else b"",
                tuple(sorted(subgraph_headers.items())) if subgraph_headers else (),
                include_plan,
                override_labels,
            )
            pending = self._inflight.get(key)
            if pending is not None:
                self.inflight_coalesced += 1
            else:
                # The shared execution runs as its own task, so a caller that goes away
                # (client disconnect) does not cancel it for the others.
                pending = asyncio.ensure_future(
                    self._run(prepared, plan, variables, send_vars, conditions, subgraph_headers, include_plan)
                )
                self._inflight[key] = pending
                pending.add_done_callback(lambda _t, k=key: self._inflight.pop(k, None))
            return await asyncio.shield(pending)
        return await self._run(prepared, plan, variables, send_vars, conditions, subgraph_headers, include_plan)

    async def _run(
        self,
        prepared: _Prepared,
        plan: QueryPlan,
        variables: dict[str, Any],
        send_vars: dict[str, Any],
        conditions: Mapping[str, Any],
        subgraph_headers: Mapping[str, str] | None,
        include_plan: bool,
    ) -> GatewayResult:
        outcome = await execute_plan(
            plan,
            client=self.client,
            variables=send_vars,
            conditions=conditions,
            headers=subgraph_headers,
            possible_types=self._possible,
            include_subgraph_errors=self.options.include_subgraph_errors,
        )
        introspection = None
        errors = outcome.errors
        if prepared.intro_document is not None:
            introspection, intro_errors = run_introspection(self.api_schema, prepared.intro_document, variables)
            if intro_errors:
                errors = errors + intro_errors
        projected = prepared.projection.project(
            outcome.data, conditions=conditions, covered=outcome.covered, introspection=introspection
        )
        body: dict[str, Any] = {"data": projected.data}
        if projected.errors:
            errors = errors + projected.errors
        if errors:
            body["errors"] = errors
        if include_plan:
            body["extensions"] = {"queryPlan": plan_to_json(plan)}
        return GatewayResult(body, "ok")

    async def aclose(self) -> None:
        close = getattr(self.client, "aclose", None)
        if close is not None:
            await close()


def _planning_error(exc: Exception) -> dict[str, Any]:
    code = getattr(exc, "code", None)
    if not isinstance(code, str):
        ext = getattr(exc, "extensions", None)
        code = ext.get("code") if isinstance(ext, dict) else None
    return _error(str(exc) or type(exc).__name__, code if isinstance(code, str) else PLANNING_FAILED)


def _possible_types(schema: GraphQLSchema) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for name, gtype in schema.type_map.items():
        if isinstance(gtype, (GraphQLInterfaceType, GraphQLUnionType)):
            out[name] = frozenset(t.name for t in schema.get_possible_types(gtype))
    return out
