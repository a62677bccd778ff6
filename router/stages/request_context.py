"""What travels through the stages: the per-request :class:`RequestContext`, and the
:class:`PreparedOperation` the validate stage builds once per (document, operation name)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    value_from_ast_untyped,
)

from router.defer import DeferInfo, DeferSite, find_defers, strip_defers
from router.execution import OperationProjection, split_introspection
from router.planning.query_plan import QueryPlan

__all__ = ["PreparedOperation", "RequestContext"]


class PreparedOperation:
    """Everything about one validated operation that does not depend on variable values; cached,
    so a known operation skips parse, validation, projection compilation and planning."""

    __slots__ = (
        "defaults",
        "defer",
        "document",
        "fragments",
        "guards",
        "intro_document",
        "kind",
        "operation",
        "planning_document",
        "plans",
        "projection",
        "restricted",
        "root_fields",
        "var_defs",
    )

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        # @defer sites are tagged with ids first, so every later copy of the document names them alike.
        found = find_defers(schema, document, operation)
        sites = None
        if found is not None:
            document, operation, sites = found
        self.document = document
        self.operation = operation
        self.kind: OperationType = operation.operation
        self.var_defs = tuple(operation.variable_definitions or ())
        self.defaults: dict[str, Any] = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in self.var_defs
            if d.default_value is not None
        }
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.projection = OperationProjection(schema, operation, self.fragments)
        # Root field names the operation may select (rate-limit rules match on them).
        self.root_fields = frozenset(_root_field_names(operation.selection_set, self.fragments, set()))
        self.defer: DeferInfo | None = None
        self.intro_document, self.planning_document = self._split(document, operation, sites)
        # override-label set -> plan (or the planning error, so a hopeless operation is not re-planned)
        self.plans: dict[frozenset[str], QueryPlan | Exception] = {}
        # Authorization (router/stages/authorize.py): the guarded selections, computed on first use, and
        # one restricted copy of this operation per set of denied selections (its own plans).
        self.guards: list[Any] | None = None
        self.restricted: dict[frozenset[int], PreparedOperation] = {}

    def without(self, schema: GraphQLSchema, denied: frozenset[int]) -> PreparedOperation:
        """This operation with the ``denied`` selections removed for planning, projected from the original
        operation so those selections come back as null with an error (docs/router.md §8.2)."""
        from .access.filter import filter_document

        copy = PreparedOperation.__new__(PreparedOperation)
        copy.document, copy.operation, copy.kind = self.document, self.operation, self.kind
        copy.var_defs, copy.defaults, copy.fragments = self.var_defs, self.defaults, self.fragments
        copy.projection = OperationProjection(schema, self.operation, self.fragments, denied=denied)
        filtered, operation = filter_document(self.document, self.operation, denied)
        # When every root field was removed the planning document is None: no subgraph is asked anything.
        copy.defer = None
        copy.intro_document, copy.planning_document = copy._split(
            filtered, operation, self.defer.sites if self.defer is not None else None
        )
        copy.plans, copy.guards, copy.restricted = {}, [], {}
        copy.root_fields = self.root_fields
        return copy

    def _split(
        self, document: DocumentNode, operation: OperationDefinitionNode, sites: dict[int, DeferSite] | None
    ) -> tuple[DocumentNode | None, DocumentNode | None]:
        """(introspection document, planning document), both without ``@defer``; the tagged planning
        document is kept in ``self.defer`` for the defer stage (router/stages/defer.py)."""
        intro, planning = split_introspection(document, operation)
        if sites is None:
            return intro, planning
        self.defer = DeferInfo(sites, planning)
        return (
            strip_defers(intro) if intro is not None else None,
            strip_defers(planning) if planning is not None else None,
        )


def _root_field_names(
    selections: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[str]:
    """Field names at the root, through inline fragments and fragment spreads (each fragment once;
    ``@skip``/``@include`` ignored, so a conditional field counts as selected)."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_field_names(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_field_names(fragment.selection_set, fragments, seen)


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
    # Authorization in dry-run mode: the errors reported without filtering.
    authorization_errors: list[dict[str, Any]] = field(default_factory=list)
    # The client accepts incremental delivery (multipart/mixed); with active @defer sites the defer
    # stage (router/stages/defer.py) sets ``deferred`` to the deferred parts of the plan.
    incremental: bool = False
    deferred: Any = None

    @property
    def operation(self) -> PreparedOperation:
        assert self.prepared is not None, "the validate stage runs first"
        return self.prepared
