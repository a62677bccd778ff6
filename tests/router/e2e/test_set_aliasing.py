"""``aliasing`` set over real HTTP: one response key, two fields whose types differ only in
the subgraph (``Book.code: String!`` vs ``Movie.code: String`` in media). The router sends
one of them under an internal alias and restores the client's key (notes §3.9)."""

from __future__ import annotations


async def test_root_fetch_restores_the_client_key(run_set):
    run = await run_set("aliasing")
    body = await run.query("{ feed { __typename ... on Book { v: code } ... on Movie { v: code } } }")
    assert body == {
        "data": {
            "feed": [
                {"__typename": "Book", "v": "B-1"},
                {"__typename": "Movie", "v": None},
                {"__typename": "Book", "v": "B-2"},
                {"__typename": "Movie", "v": "M-2"},
            ]
        }
    }
    assert run.calls() == ["media"]
    assert "_internal_qp_rename_" in run.apps["media"].requests[0]["query"]


async def test_entity_fetch_restores_the_client_key(run_set):
    run = await run_set("aliasing")
    body = await run.query("{ picks { ... on Book { v: code } ... on Movie { v: code m: minutes(round: true) } } }")
    # m2: 5400 s = 90 min; m1: 7290 s = 121.5 min, rounded half to even -> 122
    assert body == {"data": {"picks": [{"v": "M-2", "m": 90}, {"v": "B-1"}, {"v": None, "m": 122}]}}
    assert run.calls() == ["shelf", "media"]
    [reps] = run.reps("media")
    assert sorted(r["id"] for r in reps) == ["b1", "m1", "m2"]


async def test_same_key_same_type_needs_no_alias(run_set):
    run = await run_set("aliasing")
    query = "query F($f: Format) { feed(format: $f) { ... on Book { v: id } ... on Movie { v: id } } }"
    assert await run.query(query, {"f": "HARDCOVER"}) == {"data": {"feed": [{"v": "b1"}]}}
    assert "_internal_qp_rename_" not in run.apps["media"].requests[0]["query"]
