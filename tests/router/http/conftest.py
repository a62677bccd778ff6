from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.app import create_app, operation_limits
from router.settings import RouterSettings
from tests.router.http.fixtures import SUPERGRAPH_V1, AccountsSubgraph, asgi_client, make_gateway

ClientFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
def supergraph_file(tmp_path: Path) -> Path:
    """The v1 supergraph as a file, for ``RouterSettings(supergraph=...)``."""
    path = tmp_path / "supergraph.graphql"
    path.write_text(SUPERGRAPH_V1)
    return path


@pytest.fixture
def subgraph() -> AccountsSubgraph:
    return AccountsSubgraph()


@pytest.fixture
async def make_client(subgraph: AccountsSubgraph) -> AsyncIterator[ClientFactory]:
    """``make_client(**settings)``: the router app over the in-process subgraph, via ASGITransport."""
    clients: list[httpx.AsyncClient] = []
    gateways: list[Any] = []

    def factory(**settings: Any) -> httpx.AsyncClient:
        router_settings = RouterSettings(**settings)
        # An injected gateway keeps its own options, so give it the ones the settings imply.
        gateway, _ = make_gateway(
            SUPERGRAPH_V1,
            subgraph,
            introspection=router_settings.introspection_enabled,
            limits=operation_limits(router_settings.limits),
        )
        gateways.append(gateway)
        app = create_app(router_settings, gateway=gateway)
        client = asgi_client(app)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
    for gateway in gateways:
        await gateway.aclose()


@pytest.fixture
async def client(make_client: ClientFactory) -> httpx.AsyncClient:
    return make_client()
