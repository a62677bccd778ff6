"""The true answer for a set whose data is small enough to write down: the operation executed by graphql-core on
the set's API schema over that data, with no federation in between.

Where both reference gateways answer differently from us, an oracle decides: an answer equal to the oracle's is
right (the reference gateways are then wrong, and docs/router.md §9 Checked against the reference gateways says
how), anything else is a mismatch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLSchema, execute_sync, parse

from tests.fixtures.subgraph_apps.sets import alias_merge, aliasing, requires_args

from .generator import GeneratedOperation

__all__ = ["ORACLES"]


def _alias_merge_root() -> dict[str, Any]:
    """What media and archive hold, as one graph: every item with its meta, a Book with its shelf too."""

    def item(ref: dict[str, Any]) -> dict[str, Any]:
        shelf = {"shelf": f"S-{ref['id']}"} if ref["__typename"] == "Book" else {}
        return {**ref, "meta": alias_merge.META[ref["id"]], **shelf}

    items = [item(ref) for ref in alias_merge.ITEMS]
    return {"feed": items, "latest": items[0]}


def _aliasing_root() -> dict[str, Any]:
    """media's books and movies with old's book codes, as one graph; shelf's picks ignore the format, as shelf
    does."""
    return {
        "feed": lambda _info, format=None: aliasing.feed(format),
        "picks": lambda _info, format=None: [aliasing.item(x) for x in aliasing.PICKS],
    }


def _requires_args_root() -> dict[str, Any]:
    """catalog's products with shipping's totals, each computed from the price in its own currency."""

    def product(pid: str) -> dict[str, Any]:
        prices = requires_args.PRICES[pid]
        return {
            "id": pid,
            "name": requires_args.NAMES[pid],
            "price": lambda _info, currency: prices[currency],
            "totalUsd": prices["USD"] + requires_args.SHIPPING["USD"],
            "totalEur": prices["EUR"] + requires_args.SHIPPING["EUR"],
            "dutyEur": prices["EUR"] // 10,
        }

    return {
        "products": [product(pid) for pid in requires_args.PRICES],
        "product": lambda _info, id: product(id) if id in requires_args.PRICES else None,
    }


def _run(root: Callable[[], dict[str, Any]]) -> Callable[[GraphQLSchema, GeneratedOperation], dict[str, Any]]:
    def answer(schema: GraphQLSchema, op: GeneratedOperation) -> dict[str, Any]:
        result = execute_sync(schema, parse(op.query), root_value=root(), variable_values=op.variables)
        return dict(result.formatted)

    return answer


ORACLES: dict[str, Callable[[GraphQLSchema, GeneratedOperation], dict[str, Any]]] = {
    "alias_merge": _run(_alias_merge_root),
    "aliasing": _run(_aliasing_root),
    "requires_args": _run(_requires_args_root),
}
