"""Typed view of a supergraph's join metadata: the tables the planner reads.

Everything here is computed once by :func:`router.supergraph.load_supergraph`; the planner
only performs dictionary look-ups (docs/router.md §1.3 Each subgraph's view).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graphql import GraphQLInterfaceType, GraphQLSchema, GraphQLUnionType, print_schema

from .access import AccessRules
from .cost import CostRules

if TYPE_CHECKING:
    from ..operation.selection_tree import Selection

__all__ = ["ContextArgument", "SubgraphInfo", "KeyInfo", "FieldInGraph", "FieldInfo", "TypeInfo", "Supergraph"]


@dataclass(frozen=True, slots=True)
class SubgraphInfo:
    name: str
    url: str
    enum_value: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    graph: str
    type_name: str
    fields: str
    selections: tuple[Selection, ...]
    resolvable: bool = True
    extension: bool = False


@dataclass(frozen=True, slots=True)
class ContextArgument:
    """One ``@fromContext`` argument (``join__field(contextArguments:)``): the router fills argument ``name``
    (of type ``type``) from ``selection`` on the nearest ancestor whose type sets ``context``
    (docs/router.md §3.16 @context and @fromContext)."""

    name: str
    type: str
    context: str
    selection: str
    selections: tuple[Selection, ...] = ()


@dataclass(slots=True)
class FieldInGraph:
    """One ``@join__field`` (or the implied entry when a field has none) for one graph."""

    graph: str
    external: bool = False
    requires: str | None = None
    provides: str | None = None
    type: str | None = None  # the field's type in this graph when it differs
    override_from: str | None = None  # subgraph *name* this graph took the field from
    used_overridden: bool = False
    override_label: str | None = None
    requires_selections: tuple[Selection, ...] = ()
    provides_selections: tuple[Selection, ...] = ()
    context_arguments: tuple[ContextArgument, ...] = ()  # @fromContext arguments, filled by the router


@dataclass(slots=True)
class FieldInfo:
    name: str
    type_str: str  # supergraph type, e.g. "[Product!]!"
    named_type: str
    is_list: bool
    graphs: dict[str, FieldInGraph] = field(default_factory=dict)
    #: Set when a ``@join__field`` without ``graph`` is present: the field exists on this
    #: implementation only because an ``@interfaceObject`` contributed it.
    from_interface_object: bool = False


@dataclass(slots=True)
class TypeInfo:
    name: str
    kind: str  # object | interface | union | enum | input | scalar
    graphs: list[str] = field(default_factory=list)
    keys: dict[str, list[KeyInfo]] = field(default_factory=dict)
    interface_object_graphs: set[str] = field(default_factory=set)
    implements: dict[str, set[str]] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    enum_values: dict[str, set[str]] = field(default_factory=dict)
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    contexts: set[str] = field(default_factory=set)  # @context names this type sets


@dataclass(frozen=True, slots=True)
class Resolver:
    """Graph ``graph`` resolves the field; when ``label`` is set only if the label's
    activity equals ``when_active`` (progressive ``@override``)."""

    graph: str
    label: str | None = None
    when_active: bool = True


class Supergraph:
    """A loaded supergraph. Build with :func:`router.supergraph.load_supergraph`."""

    def __init__(
        self,
        *,
        sdl: str,
        schema: GraphQLSchema,
        api_schema: GraphQLSchema,
        subgraphs: dict[str, SubgraphInfo],
        types: dict[str, TypeInfo],
        root_types: dict[str, str],
        join_version: str,
    ) -> None:
        self.sdl = sdl
        self.schema = schema
        self.api_schema = api_schema
        self.subgraphs = subgraphs
        self.types = types
        self.root_types = root_types  # "query" -> "Query"
        self.join_version = join_version
        self.access = AccessRules()  # @authenticated/@requiresScopes/@policy, filled by the loader
        self.cost = CostRules()  # @cost/@listSize, filled by the loader
        self.graph_order = {name: i for i, name in enumerate(subgraphs)}
        self._resolvers: dict[tuple[str, str], tuple[Resolver, ...]] = {}
        self._possible: dict[tuple[str, str], frozenset[str]] = {}
        self._super_possible: dict[str, frozenset[str]] = {}
        self._io_sources: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}

    # -- printing ---------------------------------------------------------------------
    def api_schema_sdl(self) -> str:
        return print_schema(self.api_schema)

    # -- type tables ------------------------------------------------------------------
    def type_info(self, name: str) -> TypeInfo | None:
        return self.types.get(name)

    def kind(self, name: str) -> str:
        t = self.types.get(name)
        return t.kind if t else "scalar"

    def is_abstract(self, name: str) -> bool:
        return self.kind(name) in ("interface", "union")

    def graph_has_type(self, graph: str, type_name: str) -> bool:
        t = self.types.get(type_name)
        return t is not None and graph in t.graphs

    def is_interface_object(self, graph: str, type_name: str) -> bool:
        t = self.types.get(type_name)
        return t is not None and graph in t.interface_object_graphs

    def keys(self, graph: str, type_name: str, *, resolvable_only: bool = True) -> list[KeyInfo]:
        t = self.types.get(type_name)
        if t is None:
            return []
        keys = t.keys.get(graph, [])
        return [k for k in keys if k.resolvable] if resolvable_only else keys

    def is_entity(self, type_name: str) -> bool:
        t = self.types.get(type_name)
        return t is not None and any(k.resolvable for ks in t.keys.values() for k in ks)

    def super_possible_types(self, type_name: str) -> frozenset[str]:
        """Concrete object types a value of ``type_name`` may have (supergraph view)."""
        cached = self._super_possible.get(type_name)
        if cached is not None:
            return cached
        gtype = self.schema.get_type(type_name)
        if gtype is None:
            result: frozenset[str] = frozenset()
        elif self.kind(type_name) == "object":
            result = frozenset((type_name,))
        else:
            assert isinstance(gtype, GraphQLInterfaceType | GraphQLUnionType)  # kind() is not "object"
            result = frozenset(t.name for t in self.schema.get_possible_types(gtype))
        self._super_possible[type_name] = result
        return result

    def possible_types(self, graph: str, type_name: str) -> frozenset[str]:
        """Concrete object types ``graph`` can return for ``type_name``."""
        key = (graph, type_name)
        cached = self._possible.get(key)
        if cached is not None:
            return cached
        t = self.types.get(type_name)
        result: frozenset[str]
        if t is None:
            result = frozenset()
        elif t.kind == "object" or graph in t.interface_object_graphs:
            result = frozenset((type_name,)) if graph in t.graphs else frozenset()
        elif t.kind == "union":
            if any(t.members.values()):
                result = frozenset(t.members.get(graph, ()))
            else:
                result = frozenset(m for m in self.super_possible_types(type_name) if self.graph_has_type(graph, m))
        else:  # interface
            out = set()
            for obj in self.super_possible_types(type_name):
                ot = self.types.get(obj)
                if ot is None or graph not in ot.graphs or graph in ot.interface_object_graphs:
                    continue
                if any(ot.implements.values()):
                    if self._implements_in(graph, obj, type_name, set()):
                        out.add(obj)
                else:
                    out.add(obj)
            result = frozenset(out)
        self._possible[key] = result
        return result

    def _implements_in(self, graph: str, type_name: str, interface: str, seen: set[str]) -> bool:
        t = self.types.get(type_name)
        if t is None or type_name in seen:
            return False
        seen.add(type_name)
        direct = t.implements.get(graph, set())
        if interface in direct:
            return True
        return any(self._implements_in(graph, i, interface, seen) for i in direct)

    # -- field tables -----------------------------------------------------------------
    def field_info(self, type_name: str, field_name: str) -> FieldInfo | None:
        t = self.types.get(type_name)
        return t.fields.get(field_name) if t else None

    def resolvers(self, type_name: str, field_name: str) -> tuple[Resolver, ...]:
        return self._resolvers.get((type_name, field_name), ())

    def resolvable(self, graph: str, type_name: str, field_name: str, labels: frozenset[str] = frozenset()) -> bool:
        for r in self._resolvers.get((type_name, field_name), ()):
            if r.graph == graph and (r.label is None or (r.label in labels) == r.when_active):
                return True
        return False

    def resolving_graphs(self, type_name: str, field_name: str, labels: frozenset[str] = frozenset()) -> list[str]:
        return [
            r.graph
            for r in self._resolvers.get((type_name, field_name), ())
            if r.label is None or (r.label in labels) == r.when_active
        ]

    def field_in_graph(self, graph: str, type_name: str, field_name: str) -> FieldInGraph | None:
        f = self.field_info(type_name, field_name)
        return f.graphs.get(graph) if f else None

    def field_type_in_graph(self, graph: str, type_name: str, field_name: str) -> str | None:
        """Named return type of the field as ``graph`` declares it."""
        f = self.field_info(type_name, field_name)
        if f is None:
            return None
        fig = f.graphs.get(graph)
        if fig is not None and fig.type:
            return fig.type.replace("[", "").replace("]", "").replace("!", "").strip()
        return f.named_type

    def interface_object_sources(self, type_name: str, field_name: str) -> tuple[tuple[str, str], ...]:
        """``(graph, interface)`` pairs where an ``@interfaceObject`` resolves the field for ``type_name``."""
        return self._io_sources.get((type_name, field_name), ())
