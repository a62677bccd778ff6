"""Router telemetry: /metrics, /ready, trace propagation to subgraphs, request ids on failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from router.app import create_app
from router.settings import RouterSettings
from tests.router.http.fixtures import SUPERGRAPH_V1, AccountsSubgraph, asgi_client

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, AccountsSubgraph]]:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SUPERGRAPH_V1)
    subgraph = AccountsSubgraph()
    app = create_app(RouterSettings(supergraph=supergraph), subgraph_apps={"accounts": subgraph.app()})
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        yield client, subgraph


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_requests_fetches_and_plan_cache(setup) -> None:
    client, _ = setup
    for _ in range(3):
        response = await client.post("/graphql", json={"query": "query Hello { hello }", "operationName": "Hello"})
        assert response.json() == {"data": {"hello": "hello world"}}
    await client.post("/graphql", json={"query": "query Broken { nope }"})
    text = (await client.get("/metrics")).text
    assert _metric(text, "router_requests_total", operation="Hello", outcome="ok") == 3
    assert _metric(text, "router_requests_total", operation="anonymous", outcome="request_error") == 1
    assert _metric(text, "router_subgraph_fetch_duration_seconds_count", subgraph="accounts") == 3
    assert _metric(text, "router_plan_cache_lookups_total", result="miss") == 1
    assert _metric(text, "router_plan_cache_lookups_total", result="hit") == 2


async def test_traceparent_reaches_the_subgraph_with_the_same_trace_id(setup) -> None:
    client, subgraph = setup
    await client.post("/graphql", json={"query": "{ hello }"}, headers={"traceparent": TRACEPARENT})
    forwarded = subgraph.received[-1].get("traceparent")
    assert forwarded is not None and forwarded.split("-")[1] == TRACEPARENT.split("-")[1]


async def test_failed_requests_carry_the_request_id(setup) -> None:
    client, _ = setup
    response = await client.post("/graphql", json={"query": "{ nope }"}, headers={"x-request-id": "req-42"})
    assert response.json()["extensions"]["requestId"] == "req-42"
    assert response.headers["x-request-id"] == "req-42"


async def test_subgraph_fetch_errors_are_counted(tmp_path: Path) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SUPERGRAPH_V1.replace("http://accounts.invalid/graphql", "http://127.0.0.1:9/graphql"))
    app = create_app(RouterSettings(supergraph=supergraph))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client,
    ):
        body = (await client.post("/graphql", json={"query": "{ hello }"})).json()
        assert body["errors"][0]["extensions"]["code"] == "SUBGRAPH_FETCH_FAILED"
        text = (await client.get("/metrics")).text
    assert _metric(text, "router_subgraph_fetch_errors_total", subgraph="accounts") == 1


async def test_ready_reports_the_loaded_supergraph(setup) -> None:
    client, _ = setup
    response = await client.get("/ready")
    assert response.status_code == 200 and response.json()["supergraphLoaded"] is True
