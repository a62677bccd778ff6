"""``abstract`` and ``interface_object`` sets over real HTTP (``sets/abstract.py``,
``sets/interface_object.py``)."""

from __future__ import annotations


async def test_interface_members_resolved_in_their_own_graphs(run_set):
    run = await run_set("abstract")
    query = "query S($t: String!) { search(term: $t) { __typename id ... on Book { title pages } ... on Movie { title minutes } } }"
    body = await run.query(query, {"t": "Dune"})
    assert body == {
        "data": {
            "search": [
                {"__typename": "Book", "id": "b1", "title": "Dune", "pages": 412},
                {"__typename": "Movie", "id": "m1", "title": "Dune", "minutes": 155},
            ]
        }
    }
    assert sorted(run.calls()) == ["books", "movies", "search"] and run.calls()[0] == "search"
    assert run.reps("books") == [[{"__typename": "Book", "id": "b1"}]]
    assert run.reps("movies") == [[{"__typename": "Movie", "id": "m1"}]]


async def test_union_members_filtered_per_graph(run_set):
    run = await run_set("abstract")
    body = await run.query("{ results { ... on Book { title } ... on Movie { title minutes } } }")
    assert body == {"data": {"results": [{"title": "Dune"}, {"title": "Heat", "minutes": None}, {"title": "Emma"}]}}
    assert run.reps("books") == [[{"__typename": "Book", "id": "b1"}, {"__typename": "Book", "id": "b2"}]]
    assert run.reps("movies") == [[{"__typename": "Movie", "id": "m2"}]]


async def test_no_match_sends_no_entity_fetch(run_set):
    run = await run_set("abstract")
    assert await run.query('{ search(term: "zzz") { id ... on Book { title } } }') == {"data": {"search": []}}
    assert run.calls() == ["search"]


async def test_interface_object_receives_the_interface_typename(run_set):
    run = await run_set("interface_object")
    body = await run.query("{ accounts { id balance ... on User { name } ... on Admin { level } } }")
    assert body == {
        "data": {
            "accounts": [
                {"id": "u1", "balance": 100, "name": "Ada"},
                {"id": "a1", "balance": 5000, "level": 3},
                {"id": "u2", "balance": -20, "name": "Bob"},
            ]
        }
    }
    [reps] = run.reps("billing")  # order of representations is the router's business
    assert sorted(reps, key=lambda r: r["id"]) == [{"__typename": "Account", "id": i} for i in ("a1", "u1", "u2")]


async def test_interface_object_source_gets_the_real_type(run_set):
    run = await run_set("interface_object")
    body = await run.query("{ richest { __typename id balance ... on User { name } } }")
    assert body == {
        "data": {
            "richest": [
                {"__typename": "Admin", "id": "a1", "balance": 5000},
                {"__typename": "User", "id": "u1", "balance": 100, "name": "Ada"},
                {"__typename": "User", "id": "u2", "balance": -20, "name": "Bob"},
            ]
        }
    }
    assert run.calls() == ["billing", "accounts"]
    assert run.reps("accounts") == [[{"__typename": "Account", "id": i} for i in ("a1", "u1", "u2")]]
