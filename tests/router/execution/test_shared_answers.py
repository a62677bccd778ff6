"""Client requests that share one de-duplicated subgraph answer must not see each other's merges.

Each run merges its entity fetches into the tree it builds from the answers it gets; the subgraph
client hands every caller of a shared request its own decoded copy (router/subgraph_client/_dedupe.py),
so one request's merge never lands in another's tree. Whatever changes there (decoding a shared answer
once, say) must keep that. The queries below share the products root fetch (and, in the nested case,
the reviews and inventory entity fetches) but merge different values under the same response key
``x``, timed so that one request's merge lands between another's own merge and its projection; each
must get exactly its solo answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from router.gateway import Gateway
from router.subgraph_client import HttpSubgraphClient
from tests.fixtures.subgraph_apps import bench, mount_all

Hold = Callable[[str, bytes], float]  # (path, request body) -> seconds the subgraph waits before answering


class _Slow:
    """The benchmark subgraphs, each answer held as ``hold`` says: the tests order the merges of two
    requests so that one request's merge lands between another's own merge and its projection."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.hold: Hold = lambda _path, _body: 0.05

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await asyncio.sleep(self.hold(scope["path"], body))
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@pytest.fixture
async def shared() -> AsyncIterator[tuple[Gateway, HttpSubgraphClient, _Slow]]:
    apps = bench.create_apps()
    server = _Slow(mount_all(apps))
    urls = {name: f"{bench.BASE_URL}/{name}/graphql" for name in apps}
    client = HttpSubgraphClient(urls, apps={name: server for name in apps}, deduplicate_queries=True)
    gw = Gateway(bench.supergraph_sdl(), client=client)
    yield gw, client, server
    await gw.aclose()


async def _together(gw: Gateway, client: HttpSubgraphClient, queries: list[str], shares: int) -> list[dict[str, Any]]:
    """Each query alone, then all at once (``shares`` fetches answered by another's request); both rounds
    must agree exactly."""
    alone = [(await gw.execute(q)).body for q in queries]
    assert client.shared_fetches is not None
    before = client.shared_fetches.shared
    together = [r.body for r in await asyncio.gather(*[gw.execute(q) for q in queries])]
    assert client.shared_fetches.shared - before == shares
    assert together == alone
    return together


async def test_entity_merges_into_a_shared_root_answer_stay_per_request(shared):
    gw, client, server = shared
    # Both share the products root fetch. The first merges x (inventory, fast) and waits for its slow
    # reviews; meanwhile the second merges its own x (reviews) into the same products.
    server.hold = lambda path, body: 0.05 if "inventory" in path else 0.1 if b"x:" in body else 0.3
    stock, reviews = await _together(
        gw,
        client,
        [
            "{ topProducts { upc x: inStock reviews { id } } }",
            "{ topProducts { upc x: reviews { id } } }",
        ],
        shares=1,
    )

    def product_reviews(upc: str) -> list[dict[str, Any]]:
        return [{"id": r["id"]} for r in bench.REVIEWS if r["upc"] == upc]

    top = bench.PRODUCTS[:5]
    assert stock == {
        "data": {
            "topProducts": [
                {"upc": p["upc"], "x": bench.IN_STOCK[p["upc"]], "reviews": product_reviews(p["upc"])} for p in top
            ]
        }
    }
    assert reviews == {"data": {"topProducts": [{"upc": p["upc"], "x": product_reviews(p["upc"])} for p in top]}}


async def test_merges_below_a_shared_entity_answer_stay_per_request(shared):
    gw, client, server = shared
    # Both share the products root fetch, the reviews entity fetch (the same review, product and author
    # objects) and the inventory fetch for those products, which is slow. Meanwhile accounts merges
    # x: birthday for the first, then x: name for the second into the authors.
    server.hold = lambda path, body: 0.3 if "inventory" in path else 0.1 if b"name" in body else 0.05
    birthday, name = await _together(
        gw,
        client,
        [
            "{ topProducts { upc reviews { id product { upc inStock } author { id x: birthday } } } }",
            "{ topProducts { upc reviews { id product { upc inStock } author { id x: name } } } }",
        ],
        shares=3,
    )
    users = {u["id"]: u for u in bench.USERS}
    for body, field in ((birthday, "birthday"), (name, "name")):
        reviews = [r for p in body["data"]["topProducts"] for r in p["reviews"]]
        assert reviews
        for r in reviews:
            assert r["author"] == {"id": r["author"]["id"], "x": users[r["author"]["id"]][field]}
            assert r["product"] == {"upc": r["product"]["upc"], "inStock": bench.IN_STOCK[r["product"]["upc"]]}
