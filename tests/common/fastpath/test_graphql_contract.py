"""A subgraph's /graphql answers the same on the short path (fast) and on strawberry's view (stock),
through the app every subgraph is built with (``create_service_app``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy import MetaData

from setrum_common.errors import DomainError, ErrorCode
from setrum_common.fastpath.graphql import FastGraphQLEndpoint
from setrum_common.service_app import SUBGRAPH_EXTENSIONS, create_service_app
from setrum_common.settings import ServiceSettings


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str) -> str:
        return f"hello {name}"

    @strawberry.field
    def refused(self) -> str:
        raise DomainError(ErrorCode.FORBIDDEN, "not yours")

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("secret detail")

    @strawberry.field
    def viewer(self, info: strawberry.Info) -> str:
        return str(info.context.request.headers.get("x-who", "nobody"))


@strawberry.type
class Mutation:
    @strawberry.mutation
    def bump(self, by: int) -> int:
        return by + 1


schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=SUBGRAPH_EXTENSIONS)


@pytest.fixture
def http(tmp_path: Path, fast: bool) -> httpx.AsyncClient:
    settings = ServiceSettings(
        fastpath="on" if fast else "off", database_url=f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", schema_mode="create"
    )
    app = create_service_app(name="contract", schema=schema, settings=settings, metadata=MetaData())
    graphql_route = next(route for route in app.routes if getattr(route, "path", None) == "/graphql")
    assert isinstance(getattr(graphql_route, "endpoint", None), FastGraphQLEndpoint) is fast
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"x-request-id": "req-1"}
    )


async def post(client: httpx.AsyncClient, body: Any, **kw: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json=body, **kw)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


async def test_queries_mutations_variables_and_context(http: httpx.AsyncClient) -> None:
    assert await post(http, {"query": "query Hi($n: String!) { hello(name: $n) }", "variables": {"n": "Budi"}}) == {
        "data": {"hello": "hello Budi"}
    }
    assert await post(http, {"query": "mutation { bump(by: 41) }"}) == {"data": {"bump": 42}}
    assert await post(http, {"query": "{ viewer }"}, headers={"x-who": "siti"}) == {"data": {"viewer": "siti"}}
    metrics = (await http.get("/metrics")).text
    assert 'graphql_operations_total{operation="Hi",outcome="ok"} 1.0' in metrics
    assert 'graphql_operations_total{operation="anonymous",outcome="ok"} 2.0' in metrics


async def test_errors_are_coded_and_unexpected_ones_masked(http: httpx.AsyncClient) -> None:
    refused = await post(http, {"query": "{ refused }"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    broken = await post(http, {"query": "{ broken }"})
    assert broken["errors"][0]["message"] == "Internal server error"
    assert broken["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"}
    assert "secret" not in str(broken)
    bad_variable = await post(http, {"query": "query Q($n: String!) { hello(name: $n) }", "variables": {"n": 5}})
    assert bad_variable["data"] is None and bad_variable["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_invalid_documents_and_other_requests(http: httpx.AsyncClient) -> None:
    invalid = await post(http, {"query": "{ nope }"})
    assert "nope" in invalid["errors"][0]["message"]
    assert invalid["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    syntax = await post(http, {"query": "{ hello("})
    assert syntax["errors"][0]["message"].startswith("Syntax Error")
    two = await post(http, {"query": "query A { refused } query B { bump }"})
    assert two["errors"]
    got = await http.get("/graphql", params={"query": '{ hello(name: "x") }'})
    assert got.json() == {"data": {"hello": "hello x"}}
    not_json = await http.post("/graphql", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
