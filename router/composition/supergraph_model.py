"""The merged (supergraph) model that `merge` produces and `printer`/`satisfiability` read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql.language import ValueNode

from router.supergraph.access import Access

from .demand import ListSizeSpec
from .subgraph_model import FieldDef, Subgraph, TypeDef

__all__ = ["ComposedSupergraph", "Graph", "MArgument", "MEnumValue", "MField", "MType"]


@dataclass(frozen=True)
class Graph:
    """A subgraph as the supergraph names it: `name` (real), `enum` (join__Graph value), `url`."""

    name: str
    enum: str
    url: str


@dataclass
class MArgument:
    name: str
    type: str
    default: ValueNode | None = None
    description: str | None = None
    deprecated: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    cost: int | None = None  # @cost(weight:)
    list_size: ListSizeSpec | None = None  # @listSize


@dataclass
class MField:
    name: str
    type: str
    sources: dict[str, FieldDef] = field(default_factory=dict)  # graph name -> that graph's field
    args: dict[str, MArgument] = field(default_factory=dict)
    description: str | None = None
    deprecated: str | None = None
    default: ValueNode | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    access: Access | None = None
    cost: int | None = None  # @cost(weight:)
    list_size: ListSizeSpec | None = None  # @listSize
    # Copied onto an implementation from an @interfaceObject: printed as a bare `@join__field`.
    from_interface_object: bool = False


@dataclass
class MEnumValue:
    name: str
    graphs: list[str] = field(default_factory=list)
    description: str | None = None
    deprecated: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)


@dataclass
class MType:
    name: str
    kind: str
    sources: dict[str, TypeDef] = field(default_factory=dict)  # graph name -> that graph's definition
    fields: dict[str, MField] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    implements: list[tuple[str, str]] = field(default_factory=list)  # (graph, interface)
    members: list[str] = field(default_factory=list)
    member_sources: list[tuple[str, str]] = field(default_factory=list)  # (graph, member)
    values: dict[str, MEnumValue] = field(default_factory=dict)
    description: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    specified_by: str | None = None
    applied: list[str] = field(default_factory=list)
    access: Access | None = None
    cost: int | None = None  # @cost(weight:)
    list_size: ListSizeSpec | None = None  # @listSize
    contexts: list[str] = field(default_factory=list)  # @context, qualified "<subgraph>__<name>"


@dataclass
class ComposedSupergraph:
    graphs: list[Graph]
    subgraphs: dict[str, Subgraph]
    types: dict[str, MType]
    roots: dict[str, str]  # operation -> type name present in the supergraph
    # @composeDirective: name -> (printed definition, @link url or None, imported name or None)
    composed: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)

    @property
    def uses_inaccessible(self) -> bool:
        return any(_walk_flags(self, "inaccessible"))

    @property
    def uses_tag(self) -> bool:
        return any(_walk_flags(self, "tags"))

    @property
    def uses_context(self) -> bool:
        return any(t.contexts for t in self.types.values())

    @property
    def uses_cost(self) -> bool:
        """Whether any element carries @cost or @listSize (the cost spec is then linked)."""
        return any(x is not None for x in _walk_flags(self, "cost")) or any(
            x is not None for x in _walk_flags(self, "list_size")
        )

    def uses_access(self, spec: str) -> bool:
        """Whether any type or field carries the authorization directive ``spec``."""
        attr = {"authenticated": "authenticated", "requiresScopes": "scopes", "policy": "policies"}[spec]
        for t in self.types.values():
            for a in (t.access, *(f.access for f in t.fields.values())):
                if a is not None and getattr(a, attr) not in (None, False):
                    return True
        return False

    def possible_types(self, name: str) -> list[str]:
        """Object types that a value of abstract type `name` can be, per the supergraph."""
        t = self.types.get(name)
        if t is None:
            return []
        if t.kind == "object":
            return [name]
        if t.kind == "union":
            return list(t.members)
        return sorted(o.name for o in self.types.values() if o.kind == "object" and name in o.interfaces)


def _walk_flags(sg: ComposedSupergraph, attr: str) -> Iterator[Any]:
    for t in sg.types.values():
        yield getattr(t, attr)
        for f in t.fields.values():
            yield getattr(f, attr)
            for a in f.args.values():
                yield getattr(a, attr)
        for v in t.values.values():
            yield getattr(v, attr, None)
