"""create_app from a supergraph file: URL overrides, timeouts, gateway options, lifespan."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from router.app import create_app
from router.errors import SupergraphError
from router.settings import RouterSettings
from tests.router.http.fixtures import AccountsSubgraph, asgi_client
from tests.router.http.server import running_router


async def test_subgraph_url_override_is_used(supergraph_file: Path, subgraph: AccountsSubgraph) -> None:
    settings = RouterSettings(
        supergraph=supergraph_file, subgraphs={"urls": {"accounts": "http://accounts.internal/v2/graphql"}}
    )
    app = create_app(settings, subgraph_apps={"accounts": subgraph.app()})
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        response = await client.post("/graphql", json={"query": "{ hello }"})
    assert response.json() == {"data": {"hello": "hello world"}}
    assert subgraph.paths == ["/v2/graphql"]


def test_override_for_an_unknown_subgraph_is_refused(supergraph_file: Path) -> None:
    settings = RouterSettings(supergraph=supergraph_file, subgraphs={"urls": {"userz": "http://x/graphql"}})
    with pytest.raises(ValueError, match="userz"):
        create_app(settings)


async def test_per_subgraph_timeout_gives_a_graphql_error(supergraph_file: Path) -> None:
    # Over real HTTP: httpx's ASGITransport (in-process mode) does not enforce timeouts.
    subgraph = AccountsSubgraph()

    async def no_cleanup() -> None:
        return None

    with running_router(lambda: (subgraph.app(), no_cleanup)) as subgraph_url:
        settings = RouterSettings(
            supergraph=supergraph_file,
            subgraphs={"urls": {"accounts": f"{subgraph_url}/graphql"}, "timeouts": {"accounts": 0.2}},
        )
        app = create_app(settings)
        try:
            async with app.router.lifespan_context(app), asgi_client(app) as client:
                hello = await client.post("/graphql", json={"query": "{ hello }"})
                response = await client.post("/graphql", json={"query": "{ slow }"})
        finally:
            subgraph.release_from_another_thread()
    assert hello.json() == {"data": {"hello": "hello world"}}
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"slow": None}
    assert "timed out" in body["errors"][0]["message"]


async def test_production_settings_reach_the_gateway(supergraph_file: Path, subgraph: AccountsSubgraph) -> None:
    app = create_app(
        RouterSettings(supergraph=supergraph_file, env="production"), subgraph_apps={"accounts": subgraph.app()}
    )
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        response = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
        html = await client.get("/", headers={"accept": "text/html"})
    assert "data" not in response.json()
    assert html.status_code == 404


def test_broken_supergraph_at_startup_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    path.write_text("type Query {")
    with pytest.raises(SupergraphError):
        create_app(RouterSettings(supergraph=path))


async def test_the_clients_deadline_bounds_subgraph_calls_and_flows_on(
    supergraph_file: Path, subgraph: AccountsSubgraph
) -> None:
    """x-setrum-deadline-ms: the subgraph is told what is left less the router's margin, and a subgraph
    slower than the client waits is cut off in time (the subgraph timeout, 10 s, would be far later)."""
    settings = RouterSettings(supergraph=supergraph_file, deadline={"margin_s": 0.1})
    app = create_app(settings, subgraph_apps={"accounts": subgraph.app()})
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        hello = await client.post("/graphql", json={"query": "{ hello }"}, headers={"x-setrum-deadline-ms": "5000"})
        started = time.monotonic()
        slow = await client.post("/graphql", json={"query": "{ slow }"}, headers={"x-setrum-deadline-ms": "400"})
        took = time.monotonic() - started
        default = await client.post("/graphql", json={"query": "{ hello }"})
    assert hello.json() == {"data": {"hello": "hello world"}}
    assert 4000 < int(subgraph.received[0]["x-setrum-deadline-ms"]) <= 4900
    assert slow.json()["data"] == {"slow": None} and "timed out" in slow.json()["errors"][0]["message"]
    assert 0.2 < took < 2.0
    assert default.json() == {"data": {"hello": "hello world"}}
    assert 9000 < int(subgraph.received[-1]["x-setrum-deadline-ms"]) <= 9900  # ROUTER_DEADLINE__DEFAULT_S
