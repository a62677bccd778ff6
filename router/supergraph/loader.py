"""``load_supergraph``: SDL text -> :class:`Supergraph` (docs/router.md §1 The supergraph).

One pass over the AST collects the ``join__*`` applications of every type and field into
per-graph tables; graphql-core builds the supergraph schema and (in ``api_schema``) the
client-facing schema.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
    parse,
    print_ast,
)
from graphql.utilities import value_from_ast_untyped

from router.errors import SupergraphError

from .access import read_access
from .api_schema import build_api_schema
from .cost import read_cost
from .fieldset import parse_field_set
from .links import FeatureTable, read_features
from .model import (
    ContextArgument,
    FieldInfo,
    FieldInGraph,
    KeyInfo,
    Resolver,
    SubgraphInfo,
    Supergraph,
    TypeInfo,
)

__all__ = ["TYPE_KINDS", "load_supergraph"]

_WITH_FIELDS = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
)
# What kind of named type an SDL node defines or extends (the composer reads subgraph SDL with it too).
TYPE_KINDS: dict[type, str] = {
    ObjectTypeDefinitionNode: "object",
    ObjectTypeExtensionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    InterfaceTypeExtensionNode: "interface",
    UnionTypeDefinitionNode: "union",
    UnionTypeExtensionNode: "union",
    EnumTypeDefinitionNode: "enum",
    EnumTypeExtensionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    InputObjectTypeExtensionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
    ScalarTypeExtensionNode: "scalar",
}


def _args(d: DirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}


def _named(t: TypeNode) -> tuple[str, bool]:
    is_list = False
    while isinstance(t, (ListTypeNode, NonNullTypeNode)):
        if isinstance(t, ListTypeNode):
            is_list = True
        t = t.type
    assert isinstance(t, NamedTypeNode)
    return t.name.value, is_list


def load_supergraph(sdl: str) -> Supergraph:
    """Parse and index a Federation v2 (or v1, join v0.1) supergraph.

    Raises :class:`SupergraphError` for malformed SDL, a missing join spec or a linked
    ``for: EXECUTION|SECURITY`` feature this router does not implement.
    """
    try:
        document = parse(sdl)
    except GraphQLError as exc:
        raise SupergraphError(f"Supergraph SDL does not parse: {exc.message}") from None
    features = read_features(document)
    try:
        schema = build_ast_schema(document, assume_valid_sdl=False)
    except (GraphQLError, TypeError) as exc:
        raise SupergraphError(f"Supergraph SDL is not a valid schema: {exc}") from None
    return _Loader(sdl, document, features, schema).load()


class _Loader:
    def __init__(self, sdl: str, document: DocumentNode, features: FeatureTable, schema: Any) -> None:
        self.sdl = sdl
        self.document = document
        self.features = features
        self.schema = schema
        join = features.get("join")
        assert join is not None
        self.join = join
        self.d_type = join.directive("type")
        self.d_field = join.directive("field")
        self.d_graph = join.directive("graph")
        self.d_implements = join.directive("implements")
        self.d_union_member = join.directive("unionMember")
        self.d_enum_value = join.directive("enumValue")
        self.d_owner = join.directive("owner")
        self.graph_enum = join.type_name("Graph")
        context = features.get("context")
        self.d_context = context.directive("context") if context is not None else None
        self.enum_to_name: dict[str, str] = {}

    def load(self) -> Supergraph:
        subgraphs = self._graphs()
        types: dict[str, TypeInfo] = {}
        owners: dict[str, str] = {}
        for node in self.document.definitions:
            kind = TYPE_KINDS.get(type(node))
            if kind is None or not isinstance(node, TypeDefinitionNode | TypeExtensionNode):
                continue
            name = node.name.value
            if self.features.is_spec_name(name):
                continue
            info = types.get(name) or TypeInfo(name=name, kind=kind)
            types[name] = info
            self._type_directives(node, info, owners)
        all_graphs = list(subgraphs)
        for info in types.values():
            if not info.graphs:  # value type in a Fed1 (join v0.1) supergraph: everywhere
                info.graphs = list(all_graphs)
        for node in self.document.definitions:
            if not isinstance(node, _WITH_FIELDS):
                continue
            holder = types.get(node.name.value)
            if holder is None:
                continue
            for fnode in node.fields or ():
                self._field(holder, fnode, owners.get(holder.name))
        sg = Supergraph(
            sdl=self.sdl,
            schema=self.schema,
            api_schema=build_api_schema(self.document, self.features),
            subgraphs=subgraphs,
            types=types,
            root_types=self._roots(),
            join_version=self.join.version,
        )
        sg.access = read_access(self.document, self.features)
        sg.cost = read_cost(self.document, self.features)
        self._index_resolvers(sg)
        return sg

    # -- graphs ------------------------------------------------------------------------
    def _graphs(self) -> dict[str, SubgraphInfo]:
        out: dict[str, SubgraphInfo] = {}
        for node in self.document.definitions:
            if isinstance(node, EnumTypeDefinitionNode) and node.name.value == self.graph_enum:
                for v in node.values or ():
                    for d in v.directives or ():
                        if d.name.value == self.d_graph:
                            a = _args(d)
                            name, url = a.get("name"), a.get("url")
                            if not isinstance(name, str):
                                raise SupergraphError(f"@{self.d_graph} on {v.name.value} has no name")
                            out[name] = SubgraphInfo(name=name, url=url or "", enum_value=v.name.value)
                            self.enum_to_name[v.name.value] = name
        if not out:
            raise SupergraphError(f"Supergraph has no subgraphs (enum {self.graph_enum} with @{self.d_graph} values)")
        return out

    def _graph(self, value: Any) -> str:
        name = self.enum_to_name.get(value)
        if name is None:
            raise SupergraphError(f"Unknown graph {value!r} in a join directive")
        return name

    def _roots(self) -> dict[str, str]:
        roots = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
        for node in self.document.definitions:
            if isinstance(node, SchemaDefinitionNode):
                for op in node.operation_types:
                    roots[op.operation.value] = op.type.name.value
        return {k: v for k, v in roots.items() if self.schema.get_type(v) is not None}

    # -- types -------------------------------------------------------------------------
    def _type_directives(self, node: Any, info: TypeInfo, owners: dict[str, str]) -> None:
        for d in node.directives or ():
            dn = d.name.value
            if dn == self.d_type:
                a = _args(d)
                graph = self._graph(a.get("graph"))
                if graph not in info.graphs:
                    info.graphs.append(graph)
                if a.get("isInterfaceObject"):
                    info.interface_object_graphs.add(graph)
                key = a.get("key")
                if key:
                    info.keys.setdefault(graph, []).append(
                        KeyInfo(
                            graph=graph,
                            type_name=info.name,
                            fields=key,
                            selections=parse_field_set(key),
                            resolvable=a.get("resolvable", True) is not False,
                            extension=bool(a.get("extension", False)),
                        )
                    )
            elif dn == self.d_owner:
                graph = self._graph(_args(d).get("graph"))
                owners[info.name] = graph
                if graph not in info.graphs:
                    info.graphs.append(graph)
            elif dn == self.d_implements:
                a = _args(d)
                info.implements.setdefault(self._graph(a.get("graph")), set()).add(a["interface"])
            elif dn == self.d_union_member:
                a = _args(d)
                info.members.setdefault(self._graph(a.get("graph")), set()).add(a["member"])
            elif dn == self.d_context:
                info.contexts.add(str(_args(d).get("name")))
        if info.kind == "enum":
            for v in node.values or ():
                for d in v.directives or ():
                    if d.name.value == self.d_enum_value:
                        g = self._graph(_args(d).get("graph"))
                        info.enum_values.setdefault(g, set()).add(v.name.value)

    # -- fields ------------------------------------------------------------------------
    def _field(self, info: TypeInfo, fnode: Any, owner: str | None) -> None:
        named, is_list = _named(fnode.type)
        fi = FieldInfo(name=fnode.name.value, type_str=print_ast(fnode.type), named_type=named, is_list=is_list)
        info.fields[fi.name] = fi
        explicit = False
        for d in fnode.directives or ():
            if d.name.value != self.d_field:
                continue
            explicit = True
            a = _args(d)
            if a.get("graph") is None:
                fi.from_interface_object = True
                continue
            g = self._graph(a["graph"])
            fig = FieldInGraph(
                graph=g,
                external=bool(a.get("external")),
                requires=a.get("requires") or None,
                provides=a.get("provides") or None,
                type=a.get("type") or None,
                override_from=a.get("override") or None,
                used_overridden=bool(a.get("usedOverridden")),
                override_label=a.get("overrideLabel") or None,
            )
            if fig.requires:
                fig.requires_selections = parse_field_set(fig.requires)
            if fig.provides:
                fig.provides_selections = parse_field_set(fig.provides)
            if a.get("contextArguments"):
                fig.context_arguments = _context_arguments(a["contextArguments"], f"{info.name}.{fi.name}")
            fi.graphs[g] = fig
        if not explicit:
            graphs = [owner] if owner else info.graphs
            for g in graphs:
                fi.graphs[g] = FieldInGraph(graph=g)
        if owner:  # join v0.1: key fields are resolvable in every graph holding a key
            for g, keys in info.keys.items():
                if any(s.name == fi.name for k in keys for s in k.selections if hasattr(s, "name")):
                    fi.graphs.setdefault(g, FieldInGraph(graph=g))

    # -- resolvability -----------------------------------------------------------------
    def _index_resolvers(self, sg: Supergraph) -> None:
        """Which graphs resolve each field (after @override), then the fields interface objects
        contribute to implementations (docs/router.md §1.3 Each subgraph's view)."""
        names = set(sg.subgraphs)
        for t in sg.types.values():
            if t.kind not in ("object", "interface"):
                continue
            ext_key_fields = _extension_key_fields(t)
            for f in t.fields.values():
                sg._resolvers[(t.name, f.name)] = _field_resolvers(f, names, ext_key_fields)
        for t in sg.types.values():
            if t.kind == "interface" and t.interface_object_graphs:
                _index_interface_object_sources(sg, t)


def _context_arguments(raw: Any, where: str) -> tuple[ContextArgument, ...]:
    """``join__field(contextArguments:)``: each ``{context, name, type, selection}``; the selection is the
    text after ``$context`` in the subgraph's ``@fromContext`` (`` { currency }``)."""
    out: list[ContextArgument] = []
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in _CONTEXT_KEYS):
            raise SupergraphError(f"{where}: malformed join__field(contextArguments:) entry {item!r}")
        text = item["selection"].strip()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1]
        out.append(ContextArgument(item["name"], item["type"], item["context"], text, parse_field_set(text)))
    return tuple(out)


_CONTEXT_KEYS = ("name", "type", "context", "selection")


def _extension_key_fields(t: TypeInfo) -> dict[str, set[str]]:
    """graph -> top-level fields of keys declared on an extension there (resolvable even when
    marked external: the Federation 1 rule)."""
    out: dict[str, set[str]] = {}
    for g, keys in t.keys.items():
        for k in keys:
            if k.extension:
                out.setdefault(g, set()).update(s.name for s in k.selections if hasattr(s, "name"))
    return out


def _field_resolvers(f: FieldInfo, names: set[str], ext_key_fields: dict[str, set[str]]) -> tuple[Resolver, ...]:
    """The graphs resolving ``f``: not external (unless an extension key field), not overridden
    away; a progressive override makes both sides conditional on its label."""
    # who overrides whom (only effective when the source graph exists)
    overridden: dict[str, str | None] = {}
    for fig in f.graphs.values():
        if fig.override_from and fig.override_from in names:
            overridden[fig.override_from] = fig.override_label
    resolvers: list[Resolver] = []
    for g, fig in f.graphs.items():
        if g in overridden:
            label = overridden[g]
            if label is not None and not fig.external:
                resolvers.append(Resolver(g, label, when_active=False))
            continue
        if (fig.external or fig.used_overridden) and f.name not in ext_key_fields.get(g, ()):
            continue
        if fig.override_label and fig.override_from in names:
            resolvers.append(Resolver(g, fig.override_label, when_active=True))
        else:
            resolvers.append(Resolver(g))
    return tuple(resolvers)


def _index_interface_object_sources(sg: Supergraph, t: TypeInfo) -> None:
    """Fields an @interfaceObject graph contributes to the implementations of interface ``t``."""
    for obj in sg.super_possible_types(t.name):
        ot = sg.types.get(obj)
        if ot is None:
            continue
        for fname in t.fields:
            if ot.fields.get(fname) is None:
                continue
            for g in t.interface_object_graphs:
                resolves = sg.resolvable(g, t.name, fname) or any(r.graph == g for r in sg.resolvers(t.name, fname))
                if resolves and not any(r.graph == g for r in sg.resolvers(obj, fname)):
                    sg._io_sources[(obj, fname)] = (*sg._io_sources.get((obj, fname), ()), (g, t.name))
