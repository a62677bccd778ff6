"""``aliasing`` set over real HTTP: one response key, two fields whose types differ only in
the subgraph (``Book.code: String!`` vs ``Movie.code: String`` in media). The router sends
one of them under an internal alias and restores the client's key, as Apollo's query planner and
Hive Router do, because the subgraph would refuse the two as overlapping fields."""

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


async def test_a_fragment_spread_inside_a_conditional_fragment_is_aliased_too(run_set):
    # Found by the differential test (seed 1216230455): both reference gateways sent media the two copies of
    # `code` unaliased, and media refused the query.
    run = await run_set("aliasing")
    query = (
        "query Q { feed(format: PAPERBACK) { ... @include(if: true) { ... on Book { id code } "
        "... on Movie { ...F0 minutes } } __typename } } fragment F0 on Movie { code id }"
    )
    assert await run.query(query) == {"data": {"feed": [{"id": "b2", "code": "B-2", "__typename": "Book"}]}}
    assert "_internal_qp_rename_" in run.apps["media"].requests[0]["query"]


async def test_same_key_same_type_needs_no_alias(run_set):
    run = await run_set("aliasing")
    query = "query F($f: Format) { feed(format: $f) { ... on Book { v: id } ... on Movie { v: id } } }"
    assert await run.query(query, {"f": "HARDCOVER"}) == {"data": {"feed": [{"v": "b1"}]}}
    assert "_internal_qp_rename_" not in run.apps["media"].requests[0]["query"]


def _ebook_in_media_only(sdl: str) -> str:
    """Our composer drops EBOOK (input enums intersect); other composers or hand-written
    supergraphs may keep a value only some graphs define. Simulate that."""
    anchor = "  PAPERBACK @join__enumValue(graph: MEDIA) @join__enumValue(graph: SHELF)\n"
    assert anchor in sdl
    return sdl.replace(anchor, anchor + "  EBOOK @join__enumValue(graph: MEDIA)\n")


async def test_enum_literal_unknown_to_the_subgraph_is_a_clear_error(run_set):
    run = await run_set("aliasing", edit=_ebook_in_media_only)
    body = await run.query("{ picks(format: EBOOK) { __typename } }")
    assert body == {
        "errors": [
            {
                "message": 'Enum value Format.EBOOK (argument Query.picks(format:)) cannot be sent to subgraph "shelf", '
                "which does not define it",
                "extensions": {"code": "ENUM_VALUE_NOT_IN_SUBGRAPH"},
            }
        ]
    }
    assert run.calls() == []
    # media does define EBOOK: no EBOOK books, so an empty feed
    assert await run.query("{ feed(format: EBOOK) { __typename } }") == {"data": {"feed": []}}


async def test_enum_variable_unknown_to_the_subgraph_is_a_clear_error(run_set):
    run = await run_set("aliasing", edit=_ebook_in_media_only)
    query = "query P($f: Format) { picks(format: $f) { __typename } }"
    body = await run.query(query, {"f": "EBOOK"})
    assert body == {
        "errors": [
            {
                "message": 'Enum value Format.EBOOK (variable $f) cannot be sent to subgraph "shelf", which does not define it',
                "extensions": {"code": "ENUM_VALUE_NOT_IN_SUBGRAPH"},
            }
        ]
    }
    assert run.calls() == []
    body = await run.query(query, {"f": "HARDCOVER"})
    assert body == {"data": {"picks": [{"__typename": "Movie"}, {"__typename": "Book"}, {"__typename": "Movie"}]}}
