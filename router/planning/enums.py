"""Enum values a subgraph does not define (``@join__enumValue``, docs/router.md §1.2 The join directives).

A supergraph can list an enum value that only some of the graphs defining the enum know
(hand-written or other composers' supergraphs; ours drops such values from input enums).
Sending it to a graph that lacks it makes an invalid subgraph query, so:

* a literal argument value is checked while planning (:class:`PlanningError`,
  ``ENUM_VALUE_NOT_IN_SUBGRAPH``);
* a variable is checked per request: the plan carries ``extra["enum_checks"]`` =
  ``[[graph, variable, enum, [allowed values]], ...]`` and :func:`check_enum_variables`
  returns the errors before anything is fetched.

Supergraphs where every graph knows every value (the normal case) cost one dictionary look-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    EnumValueNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    ListValueNode,
    ObjectValueNode,
    VariableNode,
)
from graphql.language import ArgumentNode, ValueNode

from router.errors import PlanningError

from ..supergraph.model import Supergraph

__all__ = ["ENUM_CODE", "EnumGuard", "check_enum_variables", "partial_enums"]

ENUM_CODE = "ENUM_VALUE_NOT_IN_SUBGRAPH"

#: enum name -> graph -> the values that graph defines (only enums some graph lacks values of)
PartialEnums = dict[str, dict[str, frozenset[str]]]
_CACHE: WeakKeyDictionary[Supergraph, PartialEnums] = WeakKeyDictionary()


def partial_enums(sg: Supergraph) -> PartialEnums:
    got = _CACHE.get(sg)
    if got is not None:
        return got
    out: PartialEnums = {}
    for name, gtype in sg.schema.type_map.items():
        if not isinstance(gtype, GraphQLEnumType) or name.startswith("__"):
            continue
        info = sg.type_info(name)
        if info is None or not info.enum_values:
            continue
        everything = set(gtype.values)
        per_graph = {g: frozenset(info.enum_values.get(g, ())) for g in info.graphs}
        if any(vals != everything for vals in per_graph.values()):
            out[name] = per_graph
    _CACHE[sg] = out
    return out


def _unwrap(t: Any) -> Any:
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        t = t.of_type
    return t


class EnumGuard:
    """Checks the arguments of fields the walker puts into a subgraph query."""

    __slots__ = ("sg", "partial", "checks")

    def __init__(self, sg: Supergraph) -> None:
        self.sg = sg
        self.partial = partial_enums(sg)
        self.checks: list[list[Any]] = []

    def check_field(self, graph: str, parent: str, field: str, arguments: tuple[ArgumentNode, ...]) -> None:
        if not self.partial or not arguments:
            return
        owner = self.sg.schema.type_map.get(parent)
        fdef = getattr(owner, "fields", {}).get(field) if owner is not None else None
        if fdef is None:
            return
        for arg in arguments:
            adef = fdef.args.get(arg.name.value)
            if adef is not None:
                self._value(graph, arg.value, adef.type, f"{parent}.{field}({arg.name.value}:)")

    def _value(self, graph: str, value: ValueNode, gtype: Any, where: str) -> None:
        named = _unwrap(gtype)
        if isinstance(value, VariableNode):
            if isinstance(named, GraphQLEnumType) and named.name in self.partial:
                allowed = sorted(self.partial[named.name].get(graph, ()))
                check = [graph, value.name.value, named.name, allowed]
                if check not in self.checks:
                    self.checks.append(check)
            return
        if isinstance(value, ListValueNode):
            for item in value.values:
                self._value(graph, item, named, where)
        elif isinstance(value, ObjectValueNode) and isinstance(named, GraphQLInputObjectType):
            for f in value.fields:
                fdef = named.fields.get(f.name.value)
                if fdef is not None:
                    self._value(graph, f.value, fdef.type, where)
        elif isinstance(value, EnumValueNode) and isinstance(named, GraphQLEnumType):
            known = self.partial.get(named.name, {}).get(graph)
            if known is not None and value.value not in known:
                raise PlanningError(
                    f'Enum value {named.name}.{value.value} (argument {where}) cannot be sent to subgraph "{graph}", '
                    "which does not define it",
                    ENUM_CODE,
                )


def check_enum_variables(checks: list[list[Any]], variables: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Errors for variable values a subgraph's enum does not define (``plan.extra["enum_checks"]``)."""
    errors: list[dict[str, Any]] = []
    for graph, var, enum, allowed in checks:
        value = variables.get(var)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str) and v not in allowed:
                errors.append(
                    {
                        "message": f'Enum value {enum}.{v} (variable ${var}) cannot be sent to subgraph "{graph}", '
                        "which does not define it",
                        "extensions": {"code": ENUM_CODE},
                    }
                )
    return errors
