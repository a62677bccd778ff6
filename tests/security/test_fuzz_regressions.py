"""Inputs the fuzz test (test_fuzz.py) found answered wrongly, each kept as a named test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from subgraphs.users.app import create_app
from tests.users.conftest import make_settings


@pytest.fixture
async def users(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://users") as c:
        yield c


@pytest.mark.parametrize(
    ("method", "content", "content_type", "status"),
    [
        ("POST", b"{}", "application/json", 400),  # fuzz: body={} -> "No GraphQL query found" as plain text
        ("POST", b"not json", "application/json", 400),
        ("POST", b"query=x", "application/x-www-form-urlencoded", 400),
        ("GET", b"", "", 404),  # no query and no IDE: nothing to serve here
    ],
)
async def test_a_subgraph_refuses_bad_http_requests_with_a_graphql_error_body(
    users: httpx.AsyncClient, method: str, content: bytes, content_type: str, status: int
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await users.request(method, "/graphql", content=content or None, headers=headers)
    assert response.status_code == status
    body = response.json()  # was text/plain, which a GraphQL client cannot read
    assert body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"]
