"""Hot reload: a changed supergraph file serves new requests without a restart; in-flight
requests finish on the old gateway, which is closed afterwards; a broken file is ignored."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from router.app import create_app
from router.layers.reload import GatewayPool, SupergraphWatcher
from router.settings import RouterSettings
from tests.router.http.fixtures import (
    SUPERGRAPH_V1,
    SUPERGRAPH_V2,
    AccountsSubgraph,
    asgi_client,
    make_gateway,
)

VERSION = {"query": "{ version }"}


def _settings(path: Path, **extra: Any) -> RouterSettings:
    return RouterSettings(supergraph=path, hot_reload={"enabled": True, "poll_interval_s": 0.02}, **extra)


async def _wait_for(predicate, *, attempts: int = 500) -> None:
    for _ in range(attempts):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def test_changed_file_is_picked_up_by_the_lifespan_watcher(
    supergraph_file: Path, subgraph: AccountsSubgraph
) -> None:
    app = create_app(_settings(supergraph_file), subgraph_apps={"accounts": subgraph.app()})
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        before = await client.post("/graphql", json=VERSION)
        assert before.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        supergraph_file.write_text(SUPERGRAPH_V2)

        async def reloaded() -> bool:
            response = await client.post("/graphql", json=VERSION)
            return response.json().get("data") == {"version": "v2"}

        await _wait_for(reloaded)
        assert app.state.gateway_pool.generation == 2


async def test_broken_file_keeps_the_old_gateway(
    supergraph_file: Path, subgraph: AccountsSubgraph, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(_settings(supergraph_file), subgraph_apps={"accounts": subgraph.app()})
    watcher: SupergraphWatcher = app.state.supergraph_watcher
    async with asgi_client(app) as client:
        supergraph_file.write_text("type Query {")
        with caplog.at_level(logging.ERROR, logger="router.reload"):
            assert await watcher.check_once() is False
        assert "rejected" in caplog.text
        response = await client.post("/graphql", json={"query": "{ hello }"})
        assert response.json() == {"data": {"hello": "hello world"}}
        # A fixed file is then accepted.
        supergraph_file.write_text(SUPERGRAPH_V2)
        assert await watcher.check_once() is True
        assert (await client.post("/graphql", json=VERSION)).json() == {"data": {"version": "v2"}}
    await app.state.gateway_pool.aclose()


async def test_unchanged_content_is_not_a_reload(supergraph_file: Path, subgraph: AccountsSubgraph) -> None:
    app = create_app(_settings(supergraph_file), subgraph_apps={"accounts": subgraph.app()})
    watcher: SupergraphWatcher = app.state.supergraph_watcher
    supergraph_file.write_text(SUPERGRAPH_V1 + "")  # new mtime, same bytes
    assert await watcher.check_once() is False
    assert app.state.gateway_pool.generation == 1
    await app.state.gateway_pool.aclose()


async def test_in_flight_request_finishes_on_the_old_gateway(supergraph_file: Path, subgraph: AccountsSubgraph) -> None:
    app = create_app(_settings(supergraph_file), subgraph_apps={"accounts": subgraph.app()})
    watcher: SupergraphWatcher = app.state.supergraph_watcher
    async with asgi_client(app) as client:
        slow = asyncio.create_task(client.post("/graphql", json={"query": "{ slow }"}))
        await subgraph.entered.wait()
        supergraph_file.write_text(SUPERGRAPH_V2)
        assert await watcher.check_once() is True
        assert (await client.post("/graphql", json=VERSION)).json() == {"data": {"version": "v2"}}
        subgraph.release.set()
        response = await slow
        assert response.json() == {"data": {"slow": "finally"}}
    await app.state.gateway_pool.aclose()


async def test_pool_closes_a_retired_gateway_after_its_last_request(subgraph: AccountsSubgraph) -> None:
    old, old_client = make_gateway(SUPERGRAPH_V1, subgraph)
    new, new_client = make_gateway(SUPERGRAPH_V2, subgraph)
    pool = GatewayPool(old)
    async with pool.lease() as leased:
        assert leased is old
        await pool.swap(new)
        assert pool.current is new
        assert old_client.closed is False  # still serving this request
        result = await leased.execute("{ hello }")
        assert result.body == {"data": {"hello": "hello world"}}
    assert old_client.closed is True
    assert new_client.closed is False
    await pool.aclose()
    assert new_client.closed is True


async def test_idle_gateway_is_closed_at_swap_and_injected_ones_never(subgraph: AccountsSubgraph) -> None:
    injected, injected_client = make_gateway(SUPERGRAPH_V1, subgraph)
    pool = GatewayPool(injected, owned=False)
    replacement, replacement_client = make_gateway(SUPERGRAPH_V2, subgraph)
    await pool.swap(replacement)
    assert injected_client.closed is False  # its owner closes it
    newer, _ = make_gateway(SUPERGRAPH_V2, subgraph)
    await pool.swap(newer)
    assert replacement_client.closed is True
    await pool.aclose()
    await injected.aclose()


async def test_watcher_without_changes_and_missing_file(tmp_path: Path, subgraph: AccountsSubgraph) -> None:
    gateway, _ = make_gateway(SUPERGRAPH_V1, subgraph)
    pool = GatewayPool(gateway)
    path = tmp_path / "missing.graphql"
    watcher = SupergraphWatcher(path, pool, lambda sdl: make_gateway(sdl, subgraph)[0], interval_s=1)
    assert await watcher.check_once() is False
    path.write_text(SUPERGRAPH_V2)
    assert await watcher.check_once() is True
    assert await watcher.check_once() is False
    await pool.aclose()
