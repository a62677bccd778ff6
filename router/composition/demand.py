"""``@cost`` / ``@listSize`` (the cost spec) carried from subgraphs into the supergraph
(docs/router.md §5.6 Demand-control directives).

They compose without ``@composeDirective``, as Apollo's composer does for federation v2.9: one application per
element in the supergraph, the subgraphs' arguments merged per argument — ``weight`` the largest,
``assumedSize`` the largest given, ``slicingArguments`` and ``sizedFields`` the union of those given,
``requireOneSlicingArgument`` true only when every subgraph giving it says true.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COST_DEFINITIONS",
    "COST_LINK",
    "ListSizeSpec",
    "merge_demand",
    "print_demand",
    "read_cost",
    "read_list_size",
]

COST_LINK = '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])'
COST_DEFINITIONS = (
    "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT "
    "| SCALAR\n\n"
    "directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], "
    "requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION"
)


@dataclass(frozen=True)
class ListSizeSpec:
    """One ``@listSize`` application; ``None`` is an argument not given."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] | None = None
    sized_fields: tuple[str, ...] | None = None
    require_one_slicing_argument: bool | None = None


def _names(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def read_cost(args: dict[str, Any]) -> int | None:
    weight = args.get("weight")
    try:
        return int(weight) if weight is not None else None
    except (TypeError, ValueError):
        return None


def read_list_size(args: dict[str, Any]) -> ListSizeSpec:
    assumed = args.get("assumedSize")
    require = args.get("requireOneSlicingArgument")
    return ListSizeSpec(
        int(assumed) if assumed is not None else None,
        _names(args.get("slicingArguments")),
        _names(args.get("sizedFields")),
        bool(require) if require is not None else None,
    )


def _union(values: Iterable[tuple[str, ...] | None]) -> tuple[str, ...] | None:
    given = [v for v in values if v is not None]
    return tuple(dict.fromkeys(n for v in given for n in v)) if given else None


def _merge_list_sizes(specs: list[ListSizeSpec]) -> ListSizeSpec:
    sizes = [s.assumed_size for s in specs if s.assumed_size is not None]
    requires = [s.require_one_slicing_argument for s in specs if s.require_one_slicing_argument is not None]
    return ListSizeSpec(
        max(sizes) if sizes else None,
        _union(s.slicing_arguments for s in specs),
        _union(s.sized_fields for s in specs),
        all(requires) if requires else None,
    )


def merge_demand(target: Any, sources: Iterable[Any]) -> None:
    """Fold the subgraphs' ``cost`` and ``list_size`` of one element into its merged form."""
    weights: list[int] = []
    specs: list[ListSizeSpec] = []
    for source in sources:
        if getattr(source, "cost", None) is not None:
            weights.append(source.cost)
        if getattr(source, "list_size", None) is not None:
            specs.append(source.list_size)
    if weights:
        target.cost = max(weights)
    if specs:
        target.list_size = _merge_list_sizes(specs)


def _strings(names: tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(n) for n in names) + "]"


def print_demand(element: Any) -> list[str]:
    """The printed ``@cost`` / ``@listSize`` applications of a merged element."""
    out: list[str] = []
    cost = getattr(element, "cost", None)
    if cost is not None:
        out.append(f"@cost(weight: {cost})")
    spec: ListSizeSpec | None = getattr(element, "list_size", None)
    if spec is not None:
        args = []
        if spec.assumed_size is not None:
            args.append(f"assumedSize: {spec.assumed_size}")
        if spec.slicing_arguments is not None:
            args.append(f"slicingArguments: {_strings(spec.slicing_arguments)}")
        if spec.sized_fields is not None:
            args.append(f"sizedFields: {_strings(spec.sized_fields)}")
        if spec.require_one_slicing_argument is not None:
            args.append(f"requireOneSlicingArgument: {'true' if spec.require_one_slicing_argument else 'false'}")
        out.append("@listSize" + (f"({', '.join(args)})" if args else ""))
    return out
