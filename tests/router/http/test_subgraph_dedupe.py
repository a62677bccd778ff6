"""In-flight de-duplication of identical subgraph queries (ROUTER_TRAFFIC_SHAPING__DEDUPLICATE_SUBGRAPH_QUERIES).

The router (built from settings, signing on) talks to a real HTTP subgraph under uvicorn that counts the
requests it gets and holds each answer for a moment, so concurrent client requests overlap in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest

from router.app import create_app
from router.settings import (
    AuthenticationSettings,
    HeaderRules,
    RouterSettings,
    SigningSettings,
    SubgraphSettings,
    TrafficShapingSettings,
)
from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER, generate_private_key, private_key_text
from tests.router.http.fixtures import SUPERGRAPH_V1, asgi_client
from tests.router.http.server import running_router

HOLD_S = 0.8
N = 6
SECRET = "dedupe-test-secret-at-least-32-characters"


class CountingSubgraph:
    """Answers ``hello``, ``rename`` and (failing) ``slow`` after HOLD_S; records every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append((body, headers))
        request = orjson.loads(body)
        await asyncio.sleep(HOLD_S)
        query = request["query"]
        if "slow" in query:  # the leader's failure: not a GraphQL answer
            status, content = 502, b"upstream exploded"
        elif "rename" in query:
            status, content = 200, orjson.dumps({"data": {"rename": request["variables"].get("name", "x")}})
        else:
            status, content = 200, orjson.dumps({"data": {"hello": f"hello {headers.get('x-tenant', 'world')}"}})
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": content})


@pytest.fixture
def subgraph() -> Iterator[tuple[CountingSubgraph, str]]:
    app = CountingSubgraph()

    async def cleanup() -> None:
        return None

    with running_router(lambda: (app, cleanup)) as url:
        yield app, url


def _router(tmp_path: Path, url: str, *, dedupe: bool) -> Any:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SUPERGRAPH_V1)
    settings = RouterSettings(
        supergraph=supergraph,
        subgraphs=SubgraphSettings(urls={"accounts": f"{url}/graphql"}),
        headers=HeaderRules(propagate=["x-tenant"]),
        authentication=AuthenticationSettings(hs256_secret=SECRET),
        signing=SigningSettings(key=private_key_text(generate_private_key()), key_id="dedupe-test"),
        traffic_shaping=TrafficShapingSettings(deduplicate_subgraph_queries=dedupe),
    )
    return create_app(settings)


def _token(sub: str) -> str:
    return jwt.encode({"sub": sub, "role": "CUSTOMER", "exp": int(time.time()) + 300}, SECRET, algorithm="HS256")


async def _concurrently(app: Any, make: Callable[[int], tuple[dict[str, Any], dict[str, str]]]) -> list[Any]:
    async with asgi_client(app) as client:
        try:
            answers = await asyncio.gather(
                *[client.post("/graphql", json=body, headers=headers) for body, headers in map(make, range(N))]
            )
        finally:
            await app.state.gateway_pool.aclose()
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.json() for a in answers]


@pytest.mark.parametrize("dedupe, expected", [(True, 1), (False, N)])
async def test_identical_queries_share_one_subgraph_request_only_when_on(
    tmp_path: Path, subgraph: tuple[CountingSubgraph, str], dedupe: bool, expected: int
) -> None:
    counting, url = subgraph
    app = _router(tmp_path, url, dedupe=dedupe)
    same = ({"query": "{ hello }"}, {"x-tenant": "acme", "authorization": f"Bearer {_token('u1')}"})
    bodies = await _concurrently(app, lambda _i: same)
    assert bodies == [{"data": {"hello": "hello acme"}}] * N
    assert len(counting.requests) == expected
    # Every request on the wire carries its own signature (the shared one was signed once, and verifies).
    signatures = [headers[SIGNATURE_HEADER] for _, headers in counting.requests]
    assert len(set(signatures)) == expected


async def test_different_forwarded_headers_or_claims_never_share(
    tmp_path: Path, subgraph: tuple[CountingSubgraph, str]
) -> None:
    counting, url = subgraph
    app = _router(tmp_path, url, dedupe=True)

    def make(i: int) -> tuple[dict[str, Any], dict[str, str]]:
        # Pairs differ by tenant header or by the caller's claims; no two requests are alike.
        return {"query": "{ hello }"}, {"x-tenant": f"t{i % 2}", "authorization": f"Bearer {_token(f'u{i // 2}')}"}

    bodies = await _concurrently(app, make)
    assert [b["data"]["hello"] for b in bodies] == [f"hello t{i % 2}" for i in range(N)]
    assert len(counting.requests) == N
    seen = {(headers.get("x-tenant"), headers.get(CLAIMS_HEADER)) for _, headers in counting.requests}
    assert len(seen) == N


async def test_mutations_never_share(tmp_path: Path, subgraph: tuple[CountingSubgraph, str]) -> None:
    counting, url = subgraph
    app = _router(tmp_path, url, dedupe=True)
    same = ({"query": 'mutation { rename(name: "x") }'}, {"x-tenant": "acme"})
    bodies = await _concurrently(app, lambda _i: same)
    assert bodies == [{"data": {"rename": "x"}}] * N
    assert len(counting.requests) == N


async def test_a_failed_shared_request_reaches_every_follower_as_the_same_error(
    tmp_path: Path, subgraph: tuple[CountingSubgraph, str]
) -> None:
    counting, url = subgraph
    app = _router(tmp_path, url, dedupe=True)
    same = ({"query": "{ slow }"}, {"x-tenant": "acme"})
    bodies = await _concurrently(app, lambda _i: same)
    assert len(counting.requests) == 1
    assert bodies[0]["errors"][0]["extensions"]["code"] == "SUBGRAPH_FETCH_FAILED"
    assert "502" in bodies[0]["errors"][0]["message"]
    # Each client gets its own request id; data and errors are the leader's, word for word.
    shown = [{"data": b["data"], "errors": b["errors"]} for b in bodies]
    assert shown == [shown[0]] * N
    # The entry went with the leader: the next identical query goes out fresh.
    app = _router(tmp_path, url, dedupe=True)
    async with asgi_client(app) as client:
        try:
            again = await client.post("/graphql", json={"query": "{ slow }"}, headers={"x-tenant": "acme"})
        finally:
            await app.state.gateway_pool.aclose()
    assert {"data": again.json()["data"], "errors": again.json()["errors"]} == shown[0]
    assert len(counting.requests) == 2


async def test_later_requests_go_out_fresh(tmp_path: Path, subgraph: tuple[CountingSubgraph, str]) -> None:
    counting, url = subgraph
    app = _router(tmp_path, url, dedupe=True)
    async with asgi_client(app) as client:
        try:
            for _ in range(2):
                answer = await client.post("/graphql", json={"query": "{ hello }"}, headers={"x-tenant": "acme"})
                assert answer.json() == {"data": {"hello": "hello acme"}}
        finally:
            await app.state.gateway_pool.aclose()
    assert len(counting.requests) == 2


def test_the_switch_is_a_router_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert RouterSettings().traffic_shaping.deduplicate_subgraph_queries is True
    monkeypatch.setenv("ROUTER_TRAFFIC_SHAPING__DEDUPLICATE_SUBGRAPH_QUERIES", "false")
    assert RouterSettings().traffic_shaping.deduplicate_subgraph_queries is False
