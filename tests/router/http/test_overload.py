"""The router's adaptive concurrency limit: over it, heavy reads are refused at once with 503,
Retry-After and OVERLOADED, while a sign-in or a purchase still gets in (its reserved share); a
subgraph's own refusals make the router refuse at its door."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from router.app import create_app
from router.settings import RouterSettings
from setrum_common.http_server import http_protocol
from setrum_common.overload import overloaded_body
from tests.router.http.fixtures import AccountsSubgraph, asgi_client

PINNED = {"initial_limit": 4, "min_limit": 4, "max_limit": 4, "queue_timeout_s": 0.02}

# These tests hold several identical `{ slow }` reads in flight, each its own subgraph request: the
# subgraph client's merging of identical queries (on by default) would send one.
SEPARATE = {"deduplicate_subgraph_queries": False}


async def test_over_the_limit_reads_are_refused_and_priority_work_still_runs(
    supergraph_file: Path, subgraph: AccountsSubgraph
) -> None:
    app = create_app(
        RouterSettings(supergraph=supergraph_file, overload=PINNED, traffic_shaping=SEPARATE),
        subgraph_apps={"accounts": subgraph.app()},
    )
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        held = [asyncio.create_task(client.post("/graphql", json={"query": "{ slow }"})) for _ in range(3)]
        while len(subgraph.received) < 3:  # three reads in flight: the readers' share (3 of 4) is used
            await asyncio.sleep(0.01)
        started = time.monotonic()
        refused = await client.post("/graphql", json={"query": "{ hello }"})
        refused_in = time.monotonic() - started
        # The alias makes this operation a sign-in as far as the priority rule can tell.
        priority = await client.post("/graphql", json={"query": "{ signIn: hello }"})
        subgraph.release.set()
        finished = await asyncio.gather(*held)
        after = await client.post("/graphql", json={"query": "{ hello }"})
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
    assert refused_in < 0.5
    assert priority.json() == {"data": {"signIn": "hello world"}}
    assert [r.json() for r in finished] == [{"data": {"slow": "finally"}}] * 3
    assert after.json() == {"data": {"hello": "hello world"}}


async def test_the_limit_can_be_turned_off(supergraph_file: Path, subgraph: AccountsSubgraph) -> None:
    settings = RouterSettings(
        supergraph=supergraph_file, overload={**PINNED, "enabled": False}, traffic_shaping=SEPARATE
    )
    app = create_app(settings, subgraph_apps={"accounts": subgraph.app()})
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        held = [asyncio.create_task(client.post("/graphql", json={"query": "{ slow }"})) for _ in range(6)]
        while len(subgraph.received) < 6:
            await asyncio.sleep(0.01)
        hello = await client.post("/graphql", json={"query": "{ hello }"})
        subgraph.release.set()
        await asyncio.gather(*held)
    assert hello.json() == {"data": {"hello": "hello world"}}


async def test_a_full_subgraph_bulkhead_fails_that_subgraph_fast(
    supergraph_file: Path, subgraph: AccountsSubgraph
) -> None:
    settings = RouterSettings(
        supergraph=supergraph_file,
        subgraphs={"max_in_flight": 2},
        overload={"enabled": False},
        traffic_shaping=SEPARATE,
    )
    app = create_app(settings, subgraph_apps={"accounts": subgraph.app()})
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        held = [asyncio.create_task(client.post("/graphql", json={"query": "{ slow }"})) for _ in range(2)]
        while len(subgraph.received) < 2:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        third = await client.post("/graphql", json={"query": "{ hello }"})
        took = time.monotonic() - started
        subgraph.release.set()
        await asyncio.gather(*held)
        after = await client.post("/graphql", json={"query": "{ hello }"})
    assert "bulkhead full" in third.json()["errors"][0]["message"] and took < 0.5
    assert after.json() == {"data": {"hello": "hello world"}}


async def test_a_subgraph_that_refuses_makes_the_router_refuse_at_its_door(supergraph_file: Path) -> None:
    """A subgraph answering 503 OVERLOADED is back-pressure: the router's limit backs off, so it
    refuses the excess itself (cheap for it, and the busy subgraph no longer spends its time refusing);
    when the subgraph recovers, the router's requests reach it again."""
    overloaded = True
    served = 0

    async def endpoint(request: Request) -> Response:
        nonlocal served
        served += 1
        await asyncio.sleep(0.02)
        if overloaded:
            return Response(overloaded_body(), status_code=503, media_type="application/json")
        return Response(b'{"data": {"hello": "hello world"}}', media_type="application/json")

    busy = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
    overload = {"initial_limit": 16, "min_limit": 2, "max_limit": 16, "queue_timeout_s": 0.0}
    app = create_app(
        RouterSettings(supergraph=supergraph_file, overload=overload, traffic_shaping=SEPARATE),
        subgraph_apps={"accounts": busy},
    )
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        answers = []
        for _ in range(10):  # waves of 16 at once, a few of the limiter's windows
            wave = [client.post("/graphql", json={"query": "{ hello }"}) for _ in range(16)]
            answers += await asyncio.gather(*wave)
            await asyncio.sleep(0.1)
        overloaded = False
        await asyncio.sleep(0.2)
        later = [await client.post("/graphql", json={"query": "{ hello }"}) for _ in range(5)]
    at_the_door = [a for a in answers if a.status_code == 503 and "router" in a.json()["errors"][0]["message"]]
    assert at_the_door, [a.json() for a in answers[-3:]]
    assert {a.json()["errors"][0]["extensions"]["code"] for a in at_the_door} == {"OVERLOADED"}
    assert served < len(answers)  # what the router refused never reached the subgraph
    assert later[-1].json() == {"data": {"hello": "hello world"}}


async def test_a_full_bulkhead_makes_the_router_refuse_at_its_door(supergraph_file: Path) -> None:
    """A subgraph's bulkhead failing fetches is back-pressure too: without it the router admitted a
    storm (its own time stays short) and failed it fetch by fetch (SUBGRAPH_FETCH_FAILED, as errors)."""

    async def endpoint(request: Request) -> Response:
        await asyncio.sleep(0.05)
        return Response(b'{"data": {"hello": "hello world"}}', media_type="application/json")

    slow = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
    overload = {"initial_limit": 16, "min_limit": 2, "max_limit": 16, "queue_timeout_s": 0.0}
    app = create_app(
        RouterSettings(
            supergraph=supergraph_file, overload=overload, subgraphs={"max_in_flight": 2}, traffic_shaping=SEPARATE
        ),
        subgraph_apps={"accounts": slow},
    )
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        answers = []
        for _ in range(10):
            answers += await asyncio.gather(*(client.post("/graphql", json={"query": "{ hello }"}) for _ in range(16)))
            await asyncio.sleep(0.1)
    at_the_door = [a for a in answers if a.status_code == 503 and "router" in a.json()["errors"][0]["message"]]
    bulkhead = [a for a in answers if a.status_code == 200 and "bulkhead full" in str(a.json().get("errors"))]
    assert at_the_door and bulkhead, (len(at_the_door), len(bulkhead))
    assert len(bulkhead) < len(answers) / 2  # the door took over from the bulkhead


async def test_a_refusal_comes_before_any_other_work(supergraph_file: Path, subgraph: AccountsSubgraph) -> None:
    """Admission is the router's outermost step: over the limit, a request is refused before its token
    is verified or its JSON decoded (a storm's refusals must be cheap). A body over the large-body
    threshold is not counted here: the large-body gate bounds those, one at a time."""
    settings = RouterSettings(
        supergraph=supergraph_file,
        overload=PINNED,
        traffic_shaping=SEPARATE,
        authentication={"hs256_secret": "refusal-order-secret-0123456789abcdef"},
    )
    app = create_app(settings, subgraph_apps={"accounts": subgraph.app()})
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        held = [asyncio.create_task(client.post("/graphql", json={"query": "{ slow }"})) for _ in range(3)]
        while len(subgraph.received) < 3:
            await asyncio.sleep(0.01)
        garbled = await client.post(
            "/graphql",
            content=b"{not json",
            headers={"content-type": "application/json", "authorization": "Bearer not-a-token"},
        )
        padding = " " * (40 * 1024)
        large = await client.post("/graphql", json={"query": "{ hello }" + padding})
        subgraph.release.set()
        await asyncio.gather(*held)
        after = await client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert garbled.status_code == 503
    assert garbled.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
    assert large.json() == {"data": {"hello": "hello world"}}
    assert after.status_code == 400  # with room again, the same body meets the decoder


class _Counting:
    """The router app as uvicorn serves it, counting the /graphql requests that reach it."""

    def __init__(self, app: Starlette) -> None:
        self.app = app  # what the HTTP server's door looks through for app.state.admission
        self.graphql = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql":
            self.graphql += 1
        await self.app(scope, receive, send)


@pytest.mark.parametrize("door", [True, False], ids=["door", "no door"])
async def test_over_http_the_server_refuses_at_the_door_before_the_router(
    supergraph_file: Path, subgraph: AccountsSubgraph, door: bool
) -> None:
    """Served by uvicorn on our HTTP protocol, a read over the limit that no queue takes is refused by the
    server itself (the router app never has it) unless ``overload.door`` is off; the answer is the same."""
    settings = RouterSettings(
        supergraph=supergraph_file, overload={**PINNED, "queue_timeout_s": 0, "door": door}, traffic_shaping=SEPARATE
    )
    app = _Counting(create_app(settings, subgraph_apps={"accounts": subgraph.app()}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=http_protocol(), lifespan="on", log_level="error")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            held = [asyncio.create_task(client.post("/graphql", json={"query": "{ slow }"})) for _ in range(3)]
            while len(subgraph.received) < 3:
                await asyncio.sleep(0.01)
            refused = await client.post("/graphql", json={"query": "{ hello }"})
            priority = await client.post("/graphql", json={"query": "{ signIn: hello }"})
            subgraph.release.set()
            await asyncio.gather(*held)
    finally:
        server.should_exit = True
        await serving
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
    assert priority.json() == {"data": {"signIn": "hello world"}}
    assert app.graphql == (4 if door else 5)  # three held and the sign-in; without the door the refused one too
