"""What travels through the stages: the per-request :class:`RequestContext`, and the
:class:`PreparedOperation` the validate stage builds once per (document, operation name)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    value_from_ast_untyped,
)

from router.execution import OperationProjection, split_introspection
from router.planning.query_plan import QueryPlan

__all__ = ["PreparedOperation", "RequestContext"]


class PreparedOperation:
    """Everything about one validated operation that does not depend on variable values; cached,
    so a known operation skips parse, validation, projection compilation and planning."""

    __slots__ = (
        "defaults",
        "document",
        "intro_document",
        "kind",
        "operation",
        "planning_document",
        "plans",
        "projection",
        "var_defs",
    )

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.document = document
        self.operation = operation
        self.kind: OperationType = operation.operation
        self.var_defs = tuple(operation.variable_definitions or ())
        self.defaults: dict[str, Any] = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in self.var_defs
            if d.default_value is not None
        }
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.projection = OperationProjection(schema, operation, fragments)
        self.intro_document, self.planning_document = split_introspection(document, operation)
        # override-label set -> plan (or the planning error, so a hopeless operation is not re-planned)
        self.plans: dict[frozenset[str], QueryPlan | Exception] = {}


@dataclass(slots=True)
class RequestContext:
    """One request's state. The client's parameters come first; each stage fills in its result
    (``prepared`` by validate, ``send_variables``/``conditions`` by coerce, ``plan`` by plan)."""

    query: str
    operation_name: str | None = None
    variables: Any = None  # as the client sent them; coerce checks it is an object
    subgraph_headers: Mapping[str, str] | None = None
    allow_mutations: bool = True
    include_plan: bool = False
    override_labels: frozenset[str] = frozenset()
    prepared: PreparedOperation | None = None
    send_variables: dict[str, Any] = field(default_factory=dict)  # forwarded to subgraphs
    conditions: Mapping[str, Any] = field(default_factory=dict)  # coerced, for @skip/@include
    plan: QueryPlan | None = None
    # The client's verified JWT claims (router/layers/authentication.py); None = anonymous. Read by
    # authorization, and sent to subgraphs in the signed claims header (setrum_common/trust/).
    claims: Mapping[str, Any] | None = None

    @property
    def operation(self) -> PreparedOperation:
        assert self.prepared is not None, "the validate stage runs first"
        return self.prepared
