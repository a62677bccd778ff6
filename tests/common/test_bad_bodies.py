"""A POSTed body that is JSON but no object, or not valid UTF-8, answers 400 with GraphQL error JSON on
the router and every subgraph, on the fast path and the stock path: never a plain-text 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from router.app import create_app as create_router
from router.settings import RouterSettings
from tests.router.http.fixtures import SUPERGRAPH_V1, AccountsSubgraph, make_gateway

BODIES = [b"null", b"123", b'"s"', b"true", b"\xff\xfe{}", b'{"query": "{ __typename \xff }"}', b"[]"]
SERVICES = ["router", "users", "master", "transactions"]


@pytest.fixture(params=[(s, f) for s in SERVICES for f in ("on", "off")], ids=lambda p: f"{p[0]}-{p[1]}")
async def client(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    name, fastpath = request.param
    if name == "router":
        gateway, _ = make_gateway(SUPERGRAPH_V1, AccountsSubgraph())
        app = create_router(RouterSettings(fastpath=fastpath), gateway=gateway)
    else:
        module = __import__(f"subgraphs.{name}.app", fromlist=["create_app"])
        settings_module = __import__(f"subgraphs.{name}.settings", fromlist=["*"])
        settings = getattr(settings_module, f"{name.capitalize()}Settings")(
            database_url=f"sqlite+aiosqlite:///{tmp_path / name}.db", schema_mode="create", fastpath=fastpath
        )
        app = module.create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        yield http


@pytest.mark.parametrize("body", BODIES, ids=repr)
async def test_a_body_that_is_no_graphql_request_is_a_400_with_graphql_errors(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/")
    assert "json" in response.headers["content-type"]
    errors = response.json()["errors"]
    assert errors[0]["message"] and errors[0]["extensions"]["code"]
    # The service still answers a good request.
    ok = await client.post("/graphql", json={"query": "{ __typename }"})
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}
