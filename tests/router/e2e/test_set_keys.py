"""``keys`` set over real HTTP: key chain a -> b (id) -> d (ssn), composite nested key
``org { id } login`` into c, second key (login) into b, and stub graph e whose references
are resolved elsewhere (data in ``tests/fixtures/subgraph_apps/sets/keys.py``)."""

from __future__ import annotations


async def test_key_chain_through_b_to_d(run_set):
    run = await run_set("keys")
    body = await run.query("{ users { id login credit } }")
    assert body == {
        "data": {
            "users": [
                {"id": "1", "login": "ada", "credit": 700},
                {"id": "2", "login": "bob", "credit": 550},
                {"id": "3", "login": "cyd", "credit": None},
            ]
        }
    }
    assert run.calls() == ["a", "b", "d"]
    assert run.reps("b") == [[{"__typename": "User", "id": i} for i in ("1", "2", "3")]]
    assert run.reps("d") == [[{"__typename": "User", "ssn": s} for s in ("111", "222", "333")]]


async def test_composite_nested_key(run_set):
    run = await run_set("keys")
    body = await run.query("{ users { login score org { name } } }")
    assert body == {
        "data": {
            "users": [
                {"login": "ada", "score": 90, "org": {"name": "Acme"}},
                {"login": "bob", "score": 40, "org": {"name": "Globex"}},
                {"login": "cyd", "score": None, "org": {"name": "Acme"}},
            ]
        }
    }
    assert run.calls() == ["a", "c"]
    [reps] = run.reps("c")
    assert reps == [
        {"__typename": "User", "org": {"id": "o1"}, "login": "ada"},
        {"__typename": "User", "org": {"id": "o2"}, "login": "bob"},
        {"__typename": "User", "org": {"id": "o1"}, "login": "cyd"},
    ]


async def test_second_key_from_a_graph_without_id(run_set):
    run = await run_set("keys")
    body = await run.query("{ rankedUsers { login email } }")
    assert body == {
        "data": {"rankedUsers": [{"login": "ada", "email": "ada@acme.test"}, {"login": "bob", "email": None}]}
    }
    assert run.reps("b") == [[{"__typename": "User", "login": "ada"}, {"__typename": "User", "login": "bob"}]]


async def test_stub_graph_references_resolve_in_owners(run_set):
    run = await run_set("keys")
    body = await run.query('{ topUser { id email credit } loginOf(login: "cyd") { id email } }')
    assert body == {
        "data": {
            "topUser": {"id": "2", "email": None, "credit": 550},
            "loginOf": {"id": "3", "email": "cyd@acme.test"},
        }
    }
    assert run.apps["e"].entity_requests() == []  # never jumped into the stub graph
    assert run.calls()[0] == "e" and set(run.calls()) == {"e", "b", "d"}
