"""``demand_cost`` set over real HTTP: ``@cost``/``@listSize`` and an operation cost limit (issue 14, "also
supported now"). An operation whose estimated cost is over the maximum is refused with
COST_ESTIMATED_TOO_EXPENSIVE before any subgraph is called; one at or under it runs. Each case runs on the
checked-in supergraph (Apollo's composer) and on the one our composer writes from the same subgraphs: the weights
declared in the subgraphs reach the limit end to end. As in Apollo Router's static estimate, the cost is that of
the plan's fetches: the reviews entity fetch's ``_entities`` counts as a list of the default size (10). The expected
numbers follow Apollo Router's formula (``static_cost.rs``): ``size x (weight + selections) + arguments``."""

from __future__ import annotations

import pytest

from router.gateway import GatewayOptions
from router.stages import OperationLimits

# (operation, variables, estimated cost), by the rules of docs/router.md §6.5 Demand control
COSTS = [
    ('{ product(id: "p1") { name } }', None, 1),
    # shop: 3 x 1; the reviews entity fetch: _entities (default size 10) x (1 + reviews 3 x 2)
    ("{ products(first: 3) { name reviews { body } } }", None, 73),
    ("{ products { sentiment } }", None, 220),  # default first: 10 -> 10 x 1, then 10 x (1 + 20)
    ("{ products { name } }", None, 10),  # the slicing argument's default (10) sizes the list
    ("query($n: Int!) { products(first: $n) { sentiment } }", {"n": 2}, 212),
    ("query($n: Int!) { products(first: $n) { sentiment } }", {"n": 5}, 215),
    # an argument's cost is added once per field, outside its own list size: 5 x (1 + 10 x 3 + 4)
    ("{ featured { priceHistory(days: 2) } }", None, 175),
    ("{ products(first: 3) { priceHistory(days: 2) } }", None, 105),  # 3 x (1 + 10 x 3 + 4)
    ('{ search(term: "1") { id } }', None, 10),  # no @listSize: the default list size
    ("{ page(first: 4) { total items { sentiment } } }", None, 215),  # 1 x (1 + 4 x 1), then 10 x (1 + 20)
    ("{ products(first: 3) { sentiment @skip(if: true) } }", None, 3),
    ('{ product(id: "p1") { ... on Product { sentiment } } }', None, 211),
    ('{ product(id: "p1") { reviews { body } } }', None, 71),  # 1, then 10 x (1 + 3 x 2)
    # arguments by value (Apollo Router's rules): an input object is its @cost (else 1) plus its fields' costs
    ('{ filtered(filter: {tag: "x", minPrice: 3}) { name } }', None, 9),  # 2 x 1 + (5 + 2 + 0)
    ("query($f: Filter) { filtered(filter: $f) { name } }", {"f": {"tag": "x"}}, 9),
    ("query($f: Filter) { filtered(filter: $f) { name } }", {"f": {"minPrice": 1}}, 7),
    ("query($f: Filter) { filtered(filter: $f) { name } }", {"f": None}, 2),
    ('{ tagged(tags: ["a", "b", "c"]) { name } }', None, 6),  # 2 x 1 + (1 + 3 x 1): a list is its @cost plus each item
    # fragments on different types add up: 2 x (1 + 10 x 3 + 1 x (1 + 0))
    ("{ things { ... on Product { priceHistory } ... on Gift { wrapping { color } } } }", None, 64),
    # two slicing arguments: with requireOneSlicingArgument (the default) exactly one may be given; without, the
    # larger one sizes the list
    ("{ window(last: 3) { name } }", None, 3),
    ("{ span(first: 2, last: 3) { name } }", None, 3),
]


def _limited(max_cost: int) -> GatewayOptions:
    return GatewayOptions(limits=OperationLimits(max_cost=max_cost))


@pytest.mark.parametrize("ours", [False, True], ids=["reference_composer", "our_composer"])
@pytest.mark.parametrize(("query", "variables", "cost"), COSTS)
async def test_estimated_cost(run_set, query, variables, cost, ours):
    # At exactly the estimate the operation runs; one below it, it is refused and nothing is fetched.
    run = await run_set("demand_cost", options=_limited(cost), ours=ours)
    body = await run.query(query, variables)
    assert "errors" not in body and body["data"]
    run.reset()
    refused = await run_set("demand_cost", options=_limited(cost - 1), ours=ours) if cost > 1 else None
    if refused is not None:
        body = await refused.query(query, variables)
        assert "data" not in body
        [error] = body["errors"]
        assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
        assert error["extensions"]["cost.estimated"] == cost and error["extensions"]["cost.max"] == cost - 1
        assert refused.calls() == []


async def test_no_limit_by_default(run_set):
    run = await run_set("demand_cost")
    body = await run.query("{ featured { priceHistory(days: 2) sentiment } }")
    assert "errors" not in body and len(body["data"]["featured"]) == 5
    assert sorted(run.calls()) == ["reviews", "shop"]


@pytest.mark.parametrize("ours", [False, True], ids=["reference_composer", "our_composer"])
@pytest.mark.parametrize("query", ["{ window(first: 2, last: 3) { name } }", "{ window { name } }"])
async def test_slicing_arguments_must_be_exactly_one(run_set, query, ours):
    # As Apollo Router: the estimate cannot size the list, so the operation is refused (COST_QUERY_PARSE_FAILURE)
    # before anything is fetched; with no limit configured nothing is estimated and it runs.
    run = await run_set("demand_cost", options=_limited(1000), ours=ours)
    body = await run.query(query)
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "COST_QUERY_PARSE_FAILURE"
    assert "Exactly one slicing argument is required" in error["message"]
    assert run.calls() == []
    unlimited = await run_set("demand_cost", ours=ours)
    assert "errors" not in await unlimited.query(query)
