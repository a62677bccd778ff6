"""HttpSubgraphClient: encoding, pooling seam and error translation at the edge."""

from __future__ import annotations

import httpx
import orjson
import pytest

from router.subgraph_client import HttpSubgraphClient, SubgraphFetchError


def _client(handler) -> HttpSubgraphClient:
    return HttpSubgraphClient({"a": "http://a.test/graphql"}, transport=httpx.MockTransport(handler))


async def test_posts_json_and_forwards_headers():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["body"] = orjson.loads(request.content)
        seen["auth"] = request.headers.get("authorization")
        seen["ctype"] = request.headers.get("content-type")
        return httpx.Response(200, json={"data": {"x": 1}})

    client = _client(handler)
    assert await client.fetch("a", {"query": "{x}"}, {"authorization": "Bearer t"}) == {"data": {"x": 1}}
    assert seen == {"body": {"query": "{x}"}, "auth": "Bearer t", "ctype": "application/json"}
    await client.aclose()


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(200, content=b"<html>"), "not JSON"),
        (httpx.Response(502, content=b"bad gateway"), "HTTP 502"),
        (httpx.Response(500, json={"data": None}), "HTTP 500"),
        (httpx.Response(200, json=[1, 2]), "not a GraphQL result"),
    ],
)
async def test_bad_responses_raise_fetch_error(response, reason):
    client = _client(lambda _r: response)
    with pytest.raises(SubgraphFetchError) as info:
        await client.fetch("a", {"query": "{x}"}, {})
    assert info.value.subgraph == "a" and reason in str(info.value)
    await client.aclose()


async def test_graphql_errors_on_4xx_are_still_a_result():
    client = _client(lambda _r: httpx.Response(400, json={"errors": [{"message": "bad"}]}))
    assert await client.fetch("a", {"query": "{x}"}, {}) == {"errors": [{"message": "bad"}]}
    await client.aclose()


async def test_transport_errors_and_timeouts_are_translated():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for handler, reason in ((refuse, "transport error"), (slow, "timed out")):
        client = _client(handler)
        with pytest.raises(SubgraphFetchError, match=reason):
            await client.fetch("a", {"query": "{x}"}, {})
        await client.aclose()


async def test_unknown_subgraph():
    client = _client(lambda _r: httpx.Response(200, json={"data": {}}))
    with pytest.raises(SubgraphFetchError, match="no URL"):
        await client.fetch("zzz", {"query": "{x}"}, {})
    await client.aclose()
