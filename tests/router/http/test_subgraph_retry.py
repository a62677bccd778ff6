"""A fetch a subgraph refused as overloaded is sent once more (router/subgraph_client/_retry.py).

A service's overload limit refuses before anything runs (503 with ``OVERLOADED``), so the router may
send the fetch again after a short pause, a mutation too; anything else (a plain 503, a 500) is not
retried; the retries of a subgraph that keeps refusing stay within the budget; and each attempt is
signed afresh, because a subgraph remembers every signature's nonce and refuses one seen before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router.app import create_app
from router.settings import RouterSettings, SigningSettings
from setrum_common.overload import overloaded_body
from setrum_common.trust import RouterVerifier, SignatureRejected, parse_keyring, private_key_text
from tests.fixtures.router_signing import TestRouter
from tests.router.http.fixtures import asgi_client

HELLO = b'{"data": {"hello": "hello world"}}'
RENAMED = b'{"data": {"rename": "Ada"}}'


class RefusingSubgraph:
    """Answers the first ``refusals`` requests with ``refusal`` (status, body), then serves them;
    ``bodies`` holds every request body it received."""

    def __init__(self, refusals: int, refusal: tuple[int, bytes] = (503, overloaded_body())) -> None:
        self.refusals = refusals
        self.refusal = refusal
        self.bodies: list[bytes] = []

    def app(self, verifier: RouterVerifier | None = None) -> Starlette:
        async def graphql(request: Request) -> Response:
            body = await request.body()
            if verifier is not None:
                try:
                    verifier.verify(request.headers.get("x-setrum-router-signature", ""), "POST", "/graphql", body)
                except SignatureRejected as exc:
                    return Response(orjson.dumps({"errors": [{"message": str(exc)}]}), status_code=401)
            self.bodies.append(body)
            if len(self.bodies) <= self.refusals:
                status, refusal = self.refusal
                return Response(refusal, status_code=status, media_type="application/json")
            return Response(RENAMED if b"rename" in body else HELLO, media_type="application/json")

        return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def _router(supergraph_file: Path, subgraph_app: Starlette, **settings: Any) -> Starlette:
    return create_app(
        RouterSettings(supergraph=supergraph_file, overload={"enabled": False}, **settings),
        subgraph_apps={"accounts": subgraph_app},
    )


@pytest.mark.parametrize(
    ("operation", "data"),
    [("{ hello }", {"hello": "hello world"}), ('mutation { rename(name: "Ada") }', {"rename": "Ada"})],
    ids=["query", "mutation"],
)
async def test_a_fetch_refused_as_overloaded_is_sent_once_more(
    supergraph_file: Path, operation: str, data: dict[str, str]
) -> None:
    subgraph = RefusingSubgraph(refusals=1)
    app = _router(supergraph_file, subgraph.app())
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        answer = await client.post("/graphql", json={"query": operation})
        metrics = (await client.get("/metrics")).text
    assert answer.json() == {"data": data}
    assert len(subgraph.bodies) == 2 and subgraph.bodies[0] == subgraph.bodies[1]
    assert 'router_subgraph_fetch_retries_total{subgraph="accounts"} 1.0' in metrics


async def test_a_second_refusal_reaches_the_client(supergraph_file: Path) -> None:
    subgraph = RefusingSubgraph(refusals=2)
    app = _router(supergraph_file, subgraph.app())
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        answer = (await client.post("/graphql", json={"query": "{ hello }"})).json()
    assert len(subgraph.bodies) == 2
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["OVERLOADED"]


@pytest.mark.parametrize(
    "refusal",
    [(503, b'{"errors": [{"message": "draining"}]}'), (500, overloaded_body()), (503, b"Service Unavailable")],
    ids=["plain-503", "500", "not-json"],
)
async def test_other_failures_are_not_sent_again(supergraph_file: Path, refusal: tuple[int, bytes]) -> None:
    """Only the limiter's refusal says the request did not run; a plain 503 (a proxy, a draining
    server) or a 500 says nothing of the kind, and a mutation sent twice could act twice."""
    subgraph = RefusingSubgraph(refusals=1, refusal=refusal)
    app = _router(supergraph_file, subgraph.app())
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        answer = (await client.post("/graphql", json={"query": "{ hello }"})).json()
    assert len(subgraph.bodies) == 1
    assert "errors" in answer


async def test_retries_can_be_switched_off(supergraph_file: Path) -> None:
    subgraph = RefusingSubgraph(refusals=1)
    app = _router(supergraph_file, subgraph.app(), traffic_shaping={"retry_refused_fetches": False})
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        answer = (await client.post("/graphql", json={"query": "{ hello }"})).json()
    assert len(subgraph.bodies) == 1
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["OVERLOADED"]


async def test_a_subgraph_that_keeps_refusing_gets_retries_within_the_budget(supergraph_file: Path) -> None:
    """200 fetches to a subgraph refusing everything, with a budget of 10 % and no per-second trickle:
    about 20 retries (plus the one a fresh budget holds), not 200: a storm is not doubled."""
    subgraph = RefusingSubgraph(refusals=10**6)
    shaping = {"retry_budget_percent": 0.1, "retry_min_per_s": 0.0, "retry_delay_s": 0.0}
    app = _router(supergraph_file, subgraph.app(), traffic_shaping=shaping)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        for _ in range(200):
            await client.post("/graphql", json={"query": "{ hello }"})
    retries = len(subgraph.bodies) - 200
    assert 15 <= retries <= 22, retries


async def test_each_attempt_is_signed_afresh(supergraph_file: Path) -> None:
    """The subgraph checks signatures with replay memory, as the services do: a retry carrying the
    first attempt's signature would be refused as a replay."""
    router = TestRouter()
    subgraph = RefusingSubgraph(refusals=1)
    verifier = RouterVerifier(parse_keyring(router.public_keys), window_s=30)
    signing = SigningSettings(key=private_key_text(router.key), key_id="test-router")
    app = _router(supergraph_file, subgraph.app(verifier), signing=signing)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        answer = await client.post("/graphql", json={"query": "{ hello }"})
    assert answer.json() == {"data": {"hello": "hello world"}}
    assert len(subgraph.bodies) == 2
