"""``@cost`` and ``@listSize`` (the cost spec, ``https://specs.apollo.dev/cost/v0.1``) read from the
supergraph: the weights and list sizes the demand-control estimate uses (docs/router.md §6.5 Demand control)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    value_from_ast_untyped,
)

from .links import FeatureTable

__all__ = ["CostRules", "ListSize", "read_cost"]

COST_SPEC = "cost"
_WEIGHTED = (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode, ScalarTypeDefinitionNode, EnumTypeDefinitionNode)


@dataclass(frozen=True, slots=True)
class ListSize:
    """``@listSize`` on a list field: a fixed ``assumed`` size, or the value of a slicing argument
    (``first``), applied to the field itself or, with ``sized_fields``, to those child lists."""

    assumed: int | None = None
    slicing: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()
    require_one: bool = True  # requireOneSlicingArgument: exactly one slicing argument must have a value


@dataclass(slots=True)
class CostRules:
    type_weights: dict[str, int] = field(default_factory=dict)
    field_weights: dict[tuple[str, str], int] = field(default_factory=dict)
    argument_weights: dict[tuple[str, str, str], int] = field(default_factory=dict)
    input_field_weights: dict[tuple[str, str], int] = field(default_factory=dict)
    list_sizes: dict[tuple[str, str], ListSize] = field(default_factory=dict)


def _args(d: DirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


class _Reader:
    def __init__(self, features: FeatureTable) -> None:
        feature = features.get(COST_SPEC)
        self.cost = feature.directive("cost") if feature is not None else None
        self.list_size = feature.directive("listSize") if feature is not None else None
        self.rules = CostRules()

    def weight(self, directives: Any) -> int | None:
        for d in directives or ():
            if d.name.value == self.cost:
                w = _args(d).get("weight")
                return int(w) if isinstance(w, int) else None
        return None

    def list_size_of(self, directives: Any) -> ListSize | None:
        for d in directives or ():
            if d.name.value == self.list_size:
                a = _args(d)
                assumed = a.get("assumedSize")
                return ListSize(
                    assumed if isinstance(assumed, int) else None,
                    _names(a.get("slicingArguments")),
                    _names(a.get("sizedFields")),
                    a.get("requireOneSlicingArgument") is not False,
                )
        return None

    def fields(self, type_name: str, node: ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode) -> None:
        rules = self.rules
        for f in node.fields or ():
            key = (type_name, f.name.value)
            w = self.weight(f.directives)
            if w is not None:
                rules.field_weights[key] = w
            ls = self.list_size_of(f.directives)
            if ls is not None:
                rules.list_sizes[key] = ls
            for a in f.arguments or ():
                aw = self.weight(a.directives)
                if aw is not None:
                    rules.argument_weights[(*key, a.name.value)] = aw


def read_cost(document: DocumentNode, features: FeatureTable) -> CostRules:
    reader = _Reader(features)
    if reader.cost is None:
        return reader.rules
    for d in document.definitions:
        if isinstance(d, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            reader.fields(d.name.value, d)
        if isinstance(d, InputObjectTypeDefinitionNode):
            for f in d.fields or ():
                w = reader.weight(f.directives)
                if w is not None:
                    reader.rules.input_field_weights[(d.name.value, f.name.value)] = w
        if isinstance(d, _WEIGHTED):
            w = reader.weight(d.directives)
            if w is not None:
                reader.rules.type_weights[d.name.value] = w
    return reader.rules
