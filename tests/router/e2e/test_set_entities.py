"""``entities`` set over real HTTP: root fields, two entity hops, a ``resolvable: false``
reference resolved by its owner, variables and a null entity (answers worked out by hand from
``tests/fixtures/subgraph_apps/sets/entities.py``)."""

from __future__ import annotations


async def test_two_hops_with_deduplicated_authors(run_set):
    run = await run_set("entities")
    body = await run.query("{ topProducts(first: 2) { id name reviews { body rating author { id name } } } }")
    ada, bob = {"id": "u1", "name": "Ada"}, {"id": "u2", "name": "Bob"}
    assert body == {
        "data": {
            "topProducts": [
                {
                    "id": "p1",
                    "name": "Lamp",
                    "reviews": [
                        {"body": "Bright", "rating": 5, "author": ada},
                        {"body": "Flickers", "rating": 2, "author": bob},
                    ],
                },
                {
                    "id": "p2",
                    "name": "Desk",
                    "reviews": [
                        {"body": "Solid", "rating": 4, "author": ada},
                        {"body": "Heavy", "rating": None, "author": ada},
                    ],
                },
            ]
        }
    }
    assert run.calls() == ["products", "reviews", "users"]
    assert run.reps("reviews") == [[{"__typename": "Product", "id": "p1"}, {"__typename": "Product", "id": "p2"}]]
    # Three reviews by u1 and one by u2: one representation each.
    assert run.reps("users") == [[{"__typename": "User", "id": "u1"}, {"__typename": "User", "id": "u2"}]]


async def test_variables_and_null_entity(run_set):
    run = await run_set("entities")
    query = "query P($id: ID!, $n: Int) { product(id: $id) { name reviews(first: $n) { body } } }"
    assert await run.query(query, {"id": "p3"}) == {"data": {"product": {"name": "Chair", "reviews": []}}}
    assert await run.query(query, {"id": "p1", "n": 1}) == {
        "data": {"product": {"name": "Lamp", "reviews": [{"body": "Bright"}]}}
    }
    [_, second] = run.apps["reviews"].entity_requests()
    assert second["variables"]["n"] == 1 and "id" not in second["variables"]  # only what the fetch uses
    run.reset()
    assert await run.query(query, {"id": "nope"}) == {"data": {"product": None}}
    assert run.calls() == ["products"]  # nothing to resolve: no empty _entities call


async def test_root_in_owner_graph_only(run_set):
    run = await run_set("entities")
    assert await run.query("{ me { name email } }") == {"data": {"me": {"name": "Bob", "email": None}}}
    assert run.calls() == ["users"]
