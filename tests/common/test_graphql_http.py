"""The subgraphs' GraphQL endpoint: the short path answers like strawberry's view would."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.asgi import GraphQL

from setrum_common.errors import DomainError, ErrorCode
from setrum_common.graphql_http import FastGraphQLEndpoint


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
        return info.context.who


@strawberry.type
class Mutation:
    @strawberry.mutation
    def bump(self, by: int) -> int:
        return by + 1


schema = strawberry.Schema(query=Query, mutation=Mutation)


@pytest.fixture
def client() -> tuple[httpx.AsyncClient, list[tuple[Any, ...]]]:
    recorded: list[tuple[Any, ...]] = []

    async def make_context(request: Any) -> SimpleNamespace:
        return SimpleNamespace(who=request.headers.get("x-who", "nobody"), request_id="req-1")

    endpoint = FastGraphQLEndpoint(
        schema._schema,
        GraphQL(schema, graphql_ide=None, allow_queries_via_get=True),
        make_context=make_context,
        record=lambda *args: recorded.append(args),
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=endpoint), base_url="http://t"), recorded


async def post(client: httpx.AsyncClient, body: Any, **kw: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json=body, **kw)
    assert response.status_code == 200, response.text
    return response.json()


async def test_queries_mutations_variables_and_context(client) -> None:
    http, recorded = client
    assert await post(http, {"query": "query Hi($n: String!) { hello(name: $n) }", "variables": {"n": "Budi"}}) == {
        "data": {"hello": "hello Budi"}
    }
    assert await post(http, {"query": "mutation { bump(by: 41) }"}) == {"data": {"bump": 42}}
    assert await post(http, {"query": "{ viewer }"}, headers={"x-who": "siti"}) == {"data": {"viewer": "siti"}}
    assert [(name, outcome) for name, outcome, _ in recorded] == [("Hi", "ok"), (None, "ok"), (None, "ok")]


async def test_errors_are_coded_and_unexpected_ones_masked(client) -> None:
    http, recorded = client
    refused = await post(http, {"query": "{ refused }"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    broken = await post(http, {"query": "{ broken }"})
    assert broken["errors"][0]["message"] == "Internal server error"
    assert broken["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"}
    assert "secret" not in str(broken)
    bad_variable = await post(http, {"query": "query Q($n: String!) { hello(name: $n) }", "variables": {"n": 5}})
    assert bad_variable["data"] is None and bad_variable["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert recorded[-1][:2] == ("Q", "error")


async def test_anything_unusual_is_answered_by_strawberrys_view(client) -> None:
    http, _ = client
    # An invalid document, a syntax error, a missing operation name: strawberry's own messages.
    invalid = await post(http, {"query": "{ nope }"})
    assert "nope" in invalid["errors"][0]["message"]
    syntax = await post(http, {"query": "{ hello("})
    assert syntax["errors"][0]["message"].startswith("Syntax Error")
    two = await post(http, {"query": "query A { refused } query B { bump }"})
    assert two["errors"]
    # GET, and a body that is not JSON.
    got = await http.get("/graphql", params={"query": '{ hello(name: "x") }'})
    assert got.json() == {"data": {"hello": "hello x"}}
    not_json = await http.post("/graphql", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
