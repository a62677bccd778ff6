"""Gateway + planner + the "shop" subgraphs, in-process (ASGITransport) and over real HTTP.

``gateway`` is parametrised: ``asgi`` runs the subgraph apps in-process through
``httpx.ASGITransport``; ``http`` serves them with uvicorn on a free localhost port and the
Gateway uses its default network client built from the supergraph URLs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from router.gateway import Gateway
from router.subgraph_client import HttpSubgraphClient
from tests.fixtures.subgraph_apps import SubgraphApp, share_journal
from tests.fixtures.subgraph_apps.shop import (
    BASE_URL,
    mount_all,
    supergraph_sdl,
)
from tests.fixtures.uvicorn_thread import serve_in_thread


class _Switch:
    """An ASGI app that forwards to whatever ``target`` is now (fresh subgraph state per test
    while the uvicorn server lives for the whole module)."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


@pytest.fixture(scope="module")
def http_server() -> Iterator[tuple[_Switch, str]]:
    switch = _Switch()
    with serve_in_thread(switch) as base:
        yield switch, base


@pytest.fixture(params=["asgi", "http"])
async def gateway(request: pytest.FixtureRequest, apps: dict[str, SubgraphApp]) -> AsyncIterator[Gateway]:
    server_app = mount_all(apps)
    if request.param == "asgi":
        sdl = supergraph_sdl()
        urls = {name: f"{BASE_URL}/{name}/graphql" for name in apps}
        gw = Gateway(sdl, client=HttpSubgraphClient(urls, apps={name: server_app for name in apps}))
    else:
        switch, base = request.getfixturevalue("http_server")
        switch.target = server_app
        gw = Gateway(supergraph_sdl(base))
    yield gw
    await gw.aclose()


class SetRun:
    """One purpose-built set served over real HTTP behind a Gateway (see ``run_set``)."""

    def __init__(
        self, gateway: Gateway, apps: dict[str, SubgraphApp], journal: list[tuple[str, dict[str, Any]]]
    ) -> None:
        self.gateway = gateway
        self.apps = apps
        self.journal = journal

    async def query(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        return (await self.gateway.execute(query, variables, **kwargs)).body

    def reset(self) -> None:
        self.journal.clear()
        for app in self.apps.values():
            app.reset()

    def lean(self, calls: list[str]) -> None:
        """Plan-quality mode: each subgraph accepts only as many requests as ``calls`` names it
        (the lean plan); one more request, or any to a subgraph not named, fails."""
        for name, app in self.apps.items():
            app.budget = calls.count(name)

    def calls(self) -> list[str]:
        """Subgraph names in the order their requests arrived."""
        return [name for name, _ in self.journal]

    def reps(self, name: str) -> list[list[dict[str, Any]]]:
        return [b["variables"]["representations"] for b in self.apps[name].entity_requests()]


@pytest.fixture
async def run_set(http_server: tuple[_Switch, str]) -> AsyncIterator[Any]:
    """``await run_set("keys")``: fresh apps of ``tests/fixtures/subgraph_sets/<set>`` served by
    uvicorn on a free localhost port, and a Gateway using its default network client."""
    from tests.fixtures.subgraph_apps import sets

    runs: list[SetRun] = []

    async def start(set_name: str, *, edit: Any = None, ours: bool = False, **gateway_kwargs: Any) -> SetRun:
        apps = sets.create_apps(set_name)
        journal = share_journal(apps)
        switch, base = http_server
        switch.target = mount_all(apps)
        sdl = sets.supergraph_sdl(set_name, base, ours=ours)  # ours: composed by router.composition
        if edit is not None:  # a test-specific variant of the composed supergraph
            sdl = edit(sdl)
        run = SetRun(Gateway(sdl, **gateway_kwargs), apps, journal)
        runs.append(run)
        return run

    yield start
    for run in runs:
        await run.gateway.aclose()
