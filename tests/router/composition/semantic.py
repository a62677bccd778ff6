"""Reduce a supergraph SDL to its meaning (types, fields and join facts), so two composers' outputs compare.

Ordering, formatting, join version and the "no @join__field means every graph" shorthand are normalised away.
"""

from __future__ import annotations

from typing import Any

from graphql import parse, print_ast
from graphql.language import (
    DirectiveNode,
    EnumTypeDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
)

__all__ = ["semantic"]

_DEFAULTS = {
    "extension": False,
    "resolvable": True,
    "isInterfaceObject": False,
    "external": False,
    "usedOverridden": False,
}


def _args(d: DirectiveNode, graphs: dict[str, str]) -> frozenset[tuple[str, Any]]:
    out = {}
    for a in d.arguments or ():
        v = a.value
        value: Any = getattr(v, "value", None) if not hasattr(v, "values") else print_ast(v)
        if a.name.value == "graph":
            value = graphs.get(str(value), value)
        if _DEFAULTS.get(a.name.value, object()) == value:
            continue
        out[a.name.value] = value
    return frozenset(out.items())


def semantic(sdl: str) -> dict[str, Any]:
    doc = parse(sdl)
    graphs: dict[str, str] = {}
    for d in doc.definitions:
        if isinstance(d, EnumTypeDefinitionNode) and d.name.value == "join__Graph":
            for v in d.values or ():
                jg = next(x for x in v.directives or () if x.name.value == "join__graph")
                graphs[v.name.value] = dict(_args(jg, {}))["name"]
    out: dict[str, Any] = {"graphs": sorted(graphs.values())}
    for d in doc.definitions:
        if not isinstance(d, TypeDefinitionNode):
            continue
        name = d.name.value
        if name.startswith(("join__", "link__")):
            continue
        jt = {_args(x, graphs) for x in d.directives or () if x.name.value == "join__type"}
        type_graphs = {dict(a)["graph"] for a in jt}
        entry: dict[str, Any] = {
            "kind": type(d).__name__,
            "join__type": jt,
            "other": {print_ast(x) for x in d.directives or () if not x.name.value.startswith("join__")},
            "implements": {_args(x, graphs) for x in d.directives or () if x.name.value == "join__implements"},
            "interfaces": {i.name.value for i in getattr(d, "interfaces", None) or ()},
        }
        if isinstance(d, UnionTypeDefinitionNode):
            entry["members"] = {t.name.value for t in d.types or ()}
            entry["unionMember"] = {_args(x, graphs) for x in d.directives or () if x.name.value == "join__unionMember"}
        for v in getattr(d, "values", None) or ():
            entry["value " + v.name.value] = (
                {_args(x, graphs) for x in v.directives or () if x.name.value == "join__enumValue"},
                {print_ast(x) for x in v.directives or () if not x.name.value.startswith("join__")},
            )
        for f in getattr(d, "fields", None) or ():
            jf = {_args(x, graphs) for x in f.directives or () if x.name.value == "join__field"}
            if not jf:
                jf = {frozenset({("graph", g)}) for g in type_graphs}
            entry["field " + f.name.value] = (
                print_ast(f.type),
                {
                    f"{a.name.value}: {print_ast(a.type)}"
                    + (f" = {print_ast(a.default_value)}" if a.default_value else "")
                    + "".join(" " + print_ast(x) for x in a.directives or ())
                    for a in getattr(f, "arguments", None) or ()
                },
                jf,
                {print_ast(x) for x in f.directives or () if not x.name.value.startswith("join__")},
            )
        out[name] = entry
    return out
