"""The query plan: plain, frozen data that the planner produces and the executor runs.

The shape follows the query-plan format Apollo Gateway/Router print (Fetch, Flatten,
Sequence, Parallel, Condition) so plans read the same way as theirs. The executor imports
only this module from ``router.planning``; it never imports the planner.

Paths (``FlattenNode.path``, rewrite paths) are tuples of strings:
  * a response key (alias or field name),
  * ``"@"`` — every element of the list at this point (nested lists are flattened),
  * ``"... on T"`` — keep only objects whose ``__typename`` is ``T`` (a concrete type name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "FieldSelection",
    "InlineFragmentSelection",
    "Selection",
    "ValueSetter",
    "KeyRenamer",
    "FetchRewrite",
    "ContextValue",
    "FetchNode",
    "FlattenNode",
    "SequenceNode",
    "ParallelNode",
    "ConditionNode",
    "PlanNode",
    "QueryPlan",
]

OperationKind = Literal["query", "mutation", "subscription"]


@dataclass(frozen=True, slots=True)
class FieldSelection:
    """A field in a ``requires`` selection (what goes into an entity representation)."""

    name: str
    alias: str | None = None
    selections: tuple[Selection, ...] = ()

    @property
    def response_key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class InlineFragmentSelection:
    """``... on T { ... }`` in a ``requires`` selection; applies when ``__typename`` is ``T``
    (or, for an abstract ``T``, one of its possible types)."""

    type_condition: str | None
    selections: tuple[Selection, ...]


Selection = FieldSelection | InlineFragmentSelection


@dataclass(frozen=True, slots=True)
class ValueSetter:
    """Set the value at ``path`` (e.g. ``("... on Book", "__typename")``) to ``value``.
    Used to send an interface name as ``__typename`` to an ``@interfaceObject`` graph."""

    path: tuple[str, ...]
    value: Any
    kind: Literal["ValueSetter"] = "ValueSetter"


@dataclass(frozen=True, slots=True)
class KeyRenamer:
    """Rename the key at ``path`` to ``rename_key_to`` (internal alias -> real field name,
    or, as an output rewrite, back to the client's key)."""

    path: tuple[str, ...]
    rename_key_to: str
    kind: Literal["KeyRenamer"] = "KeyRenamer"


FetchRewrite = ValueSetter | KeyRenamer


@dataclass(frozen=True, slots=True)
class ContextValue:
    """A ``@fromContext`` argument of an entity fetch: variable ``variable`` takes, for each representation, the
    value under ``key`` of its ancestor object at ``ancestor`` (a prefix of the fetch's path). Representations
    with different values go in separate, aliased ``_entities`` selections of one request."""

    variable: str
    ancestor: tuple[str, ...]
    key: str


@dataclass(frozen=True, slots=True)
class FetchNode:
    """One request to one subgraph.

    A root fetch (``requires`` empty) sends ``operation`` with the client variables named in
    ``variable_usages`` and merges ``data`` at the current path. An entity fetch (``requires``
    set) builds one representation per object found at the enclosing Flatten's path by
    projecting ``requires`` over it, sends them as ``$representations`` and merges
    ``data._entities[i]`` back into the objects they came from.
    """

    service_name: str
    operation: str
    operation_kind: OperationKind = "query"
    operation_name: str | None = None
    variable_usages: tuple[str, ...] = ()
    requires: tuple[Selection, ...] = ()
    input_rewrites: tuple[FetchRewrite, ...] = ()
    output_rewrites: tuple[FetchRewrite, ...] = ()
    id: int | None = None
    context_values: tuple[ContextValue, ...] = ()


@dataclass(frozen=True, slots=True)
class FlattenNode:
    """Run ``node`` (an entity fetch) at every object reached by ``path`` in the response.

    ``paths`` (optional, added by the planner helper): when non-empty it lists EVERY path this
    node runs at (``paths[0] == path``). The planner merges entity fetches to one subgraph
    that become runnable at the same time into one request even when they sit at different
    places in the response (e.g. ``users.@.reviews.@.product`` and
    ``topProducts.@.reviews.@.author.reviews.@.product``). The executor must collect the
    objects found at all of these paths, build one ``$representations`` list from them (in
    path order, deduped as usual), send ONE request and merge ``_entities[i]`` back into the
    objects representation ``i`` came from. Empty (the default): only ``path``.
    """

    path: tuple[str, ...]
    node: PlanNode
    paths: tuple[tuple[str, ...], ...] = ()

    @property
    def all_paths(self) -> tuple[tuple[str, ...], ...]:
        return self.paths or (self.path,)


@dataclass(frozen=True, slots=True)
class SequenceNode:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class ParallelNode:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class ConditionNode:
    """Branch on a boolean variable (``@skip``/``@include`` on a whole fetch)."""

    condition: str
    if_clause: PlanNode | None
    else_clause: PlanNode | None


PlanNode = FetchNode | FlattenNode | SequenceNode | ParallelNode | ConditionNode


@dataclass(frozen=True, slots=True)
class QueryPlan:
    node: PlanNode | None
    # Anything the planner wants to hand the executor that is per-operation and
    # precomputed (never per-request). Keep it JSON-serialisable.
    extra: dict[str, Any] = field(default_factory=dict)
