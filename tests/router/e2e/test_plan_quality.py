"""Plan quality over every purpose-built set (issue 14 class 11): in lean mode each subgraph accepts
only as many requests as the lean plan sends it, and any other request fails, so a plan that calls
a subgraph it could spare (an entity fetch where an ``@provides`` path already has the field, a
second graph for fields the first one holds, a repeated fetch) answers with errors."""

from __future__ import annotations

import pytest

from tests.fixtures.subgraph_apps.sets import SETS

# set -> [(operation, the subgraph calls of the lean plan)]
LEAN: dict[str, list[tuple[str, list[str]]]] = {
    "abstract": [
        ("{ results { ... on Book { title } ... on Movie { title minutes } } }", ["search", "books", "movies"]),
        ('{ search(term: "zzz") { id ... on Book { title } } }', ["search"]),
    ],
    "alias_merge": [
        (
            "{ feed { meta { credits { author } } ... on Book { shelf meta { credits { editor } year } } } }",
            ["media", "archive"],
        ),
    ],
    "authorization": [("{ users { name } }", ["accounts"]), ("{ users { name plan } }", ["accounts", "billing"])],
    "aliasing": [
        ("{ picks { ... on Book { v: code } ... on Movie { v: code m: minutes(round: true) } } }", ["shelf", "media"])
    ],
    "advanced": [
        ("{ store { name location { city } } }", ["b"]),
        ("{ shelf { items { __typename ... on Book { title } ... on Film { title } } } }", ["a", "c"]),
        ("{ topItems { id summary } }", ["b", "a", "c", "b"]),
    ],
    "contexts": [
        (
            '{ user(id: "u1") { name transactions { amount display lines { label } } } }',
            ["accounts", "ledger", "ledger", "ledger"],
        ),
        ("{ users { name transactions { amount } } }", ["accounts", "ledger"]),
    ],
    "demand_cost": [("{ products(first: 3) { name reviews { body } } }", ["shop", "reviews"])],
    "entities": [
        (
            "{ topProducts(first: 2) { id name reviews { body rating author { id name } } } }",
            ["products", "reviews", "users"],
        ),
        ("{ me { name email } }", ["users"]),
    ],
    "entity_paths": [("{ topProducts { id stock } shelf { label products { id stock } } }", ["catalog", "inventory"])],
    "fed1_mixed": [
        ("{ topProducts { name inStock shipping } }", ["products", "inventory"]),
        ("{ lowStock { upc name inStock } warehouses { id } }", ["inventory", "products"]),
    ],
    "inaccessible": [("{ products { id name label } }", ["a", "b"])],
    "inaccessible_types": [('{ node(id: "b1") { id ... on Book { pages } } }', ["search", "books"])],
    "interface_object": [
        ("{ accounts { id balance ... on User { name } ... on Admin { level } } }", ["accounts", "billing"]),
        ("{ richest { __typename id balance ... on User { name } } }", ["billing", "accounts"]),
    ],
    "keys": [
        ("{ users { id login credit } }", ["a", "b", "d"]),
        ("{ users { login score org { name } } }", ["a", "c"]),
        ("{ rankedUsers { login email } }", ["c", "b"]),
    ],
    "mutations": [
        ('mutation { a: createUser(name: "X") { id } b: renameUser(id: "u2", name: "Y") { name } }', ["users"])
    ],
    "nested_values": [
        ("{ products { details { weight color } } }", ["catalog", "skus", "specs"]),
        ("{ products { variants { stock { count location } } } }", ["catalog", "warehouse"]),
        ("{ products { name details { weight size { width } } } }", ["catalog"]),
    ],
    "no_plan": [("{ things { id name } }", ["a", "b"])],
    "override": [("{ products { id price name } }", ["catalog", "pricing"])],
    "override_iface": [("{ items { id price } }", ["catalog", "pricing"]), ("{ items { label } }", ["catalog"])],
    "partial_abstract": [("{ feed { ... on Book { name pages } } }", ["b"])],
    "plan_cost": [
        # reviews provides author { name } on this path: no users fetch, and feed is never asked
        ("{ latestReview { author { name } } }", ["reviews"]),
        ("{ latestReview { body author { id name } } }", ["reviews"]),
        ("{ latestReview { author { name } product { sku stock } } }", ["reviews", "inventory"]),
        # sku is in both product graphs: it comes with the graph the other field needs anyway
        ("{ latestReview { product { sku price } } }", ["feed", "pricing"]),
        ("{ latestReview { product { stock sku } } }", ["feed", "inventory"]),
    ],
    "provides": [
        ("{ reviews { id author { name } } }", ["reviews"]),
        ("{ reviews { author { name email } } }", ["reviews", "users"]),
    ],
    "reentry": [
        ("{ root { me { name score } stats { users } } }", ["accounts", "stats", "stats"]),
        ("{ root { root { motd } } }", ["accounts", "stats"]),
    ],
    "requires": [
        ("{ products { id shippingCost deliveryEstimate } }", ["catalog", "shipping", "delivery"]),
        ("{ products { id discountedPrice } }", ["catalog", "tax", "catalog"]),
    ],
    "requires_args": [
        ("{ products { id totalUsd totalEur } }", ["catalog", "shipping", "shipping"]),
        ('{ product(id: "p1") { name dutyEur } }', ["catalog", "shipping"]),
    ],
    "shareable": [
        ("{ featured { id name price { amount currency } } }", ["a"]),
        ("{ newest { name price { amount } inA } }", ["b", "a"]),
        ('{ product(id: "2") { name inA } }', ["a"]),
    ],
    "shared_roots": [
        ("{ settings { theme currency } banners { title color } }", ["left", "right"]),
        ("{ settings { locale } }", ["left"]),
    ],
    "skip_all": [
        ("{ rule { amount @skip(if: true) } }", ["catalog"]),
        ("{ products { id reviews @include(if: false) { body } } }", ["catalog"]),
    ],
}

CASES = [
    pytest.param(name, query, calls, id=f"{name}-{i}") for name in LEAN for i, (query, calls) in enumerate(LEAN[name])
]


def test_every_set_has_lean_cases():
    assert sorted(LEAN) == sorted(SETS)


@pytest.mark.parametrize(("set_name", "query", "calls"), CASES)
@pytest.mark.parametrize("ours", [False, True], ids=["reference_composer", "our_composer"])
async def test_lean_plan(run_set, set_name, query, calls, ours):
    # ours: the set composed by router.composition (it must plan as leanly as on the reference composition)
    run = await run_set(set_name, ours=ours)
    run.lean(calls)
    body = await run.query(query)
    assert "errors" not in body, body
    assert sorted(run.calls()) == sorted(calls)


async def test_lean_mode_fails_a_poor_plan(run_set):
    run = await run_set("plan_cost")
    run.lean(["feed"])  # the lean plan needs reviews, not feed: every call fails
    body = await run.query("{ latestReview { author { name } } }")
    assert body["errors"] and body["data"] == {"latestReview": None}
