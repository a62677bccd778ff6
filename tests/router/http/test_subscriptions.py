"""Subscriptions at the router's edge, served by real uvicorn (docs/router.md §11 Subscriptions): GraphQL over SSE
and graphql-transport-ws framing, close codes, limits, token expiry, and the subgraph subscription closed when the
client goes. The ``reviews`` subgraph's subscription is a stand-in subscriber (the end-to-end tests use the real
WebSocket to transactions); ``products`` is a real in-process subgraph that resolves each event's product."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from router.app import create_app
from router.composition import SubgraphSource, compose
from router.gateway import Gateway
from router.settings import RouterSettings
from router.subgraph_client import HttpSubgraphClient
from setrum_common.trust import CLAIMS_HEADER, decode_claims
from tests.fixtures.subgraph_apps import make_subgraph
from tests.router.http.server import running_router

REVIEWS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@authenticated"])
type Query { latest: Review }
type Subscription { reviewAdded(count: Int!): Review! }
type Review { id: ID! body: String! product: Product! author: String @authenticated }
type Product @key(fields: "upc", resolvable: false) { upc: String! }
"""
PRODUCTS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { product(upc: String!): Product }
type Product @key(fields: "upc") { upc: String! name: String! }
"""
ADDED = "subscription($n: Int!) { reviewAdded(count: $n) { id body product { upc name } } }"
SECRET = "subscription-test-secret-0123456789abcdef"


def _supergraph() -> str:
    result = compose(
        [
            SubgraphSource("reviews", "http://reviews.invalid/graphql", REVIEWS),
            SubgraphSource("products", "http://products.invalid/graphql", PRODUCTS),
        ]
    )
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


class StandInSubscriber:
    """Answers ``reviewAdded(count: n)`` with n events 50 ms apart (n < 0: until closed); records what it got."""

    def __init__(self) -> None:
        self.open = 0
        self.closed = 0
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[Mapping[str, str]] = []

    async def subscribe(
        self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]
    ) -> AsyncIterator[dict[str, Any]]:
        assert subgraph == "reviews"
        self.bodies.append(body)
        self.headers.append(dict(headers))
        count = body["variables"]["n"]
        self.open += 1
        try:
            n = 0
            while count < 0 or n < count:
                await asyncio.sleep(0.05)
                review = {"id": str(n), "body": f"review {n}", "product": {"__typename": "Product", "upc": "p1"}}
                yield {"data": {"reviewAdded": review}}
                n += 1
        finally:
            self.open -= 1
            self.closed += 1


@contextmanager
def router(overload: dict[str, Any] | None = None, **subscriptions: Any) -> Iterator[tuple[str, StandInSubscriber]]:
    subscriber = StandInSubscriber()
    products = make_subgraph(
        "products", PRODUCTS, entities={"Product": lambda rep: {"upc": rep["upc"], "name": f"Name of {rep['upc']}"}}
    )
    settings = RouterSettings.model_validate(
        {
            "subscriptions": {"keepalive_s": 0.2, **subscriptions},
            "authentication": {"hs256_secret": SECRET, "issuers": [], "audiences": []},
            **({"overload": overload} if overload is not None else {}),
        }
    )

    def make_app() -> tuple[Any, Any]:
        sdl = _supergraph()
        client = HttpSubgraphClient({"products": "http://products.invalid/graphql"}, apps={"products": products})
        gateway = Gateway(sdl, client=client, subscriber=subscriber)
        return create_app(settings, gateway=gateway), gateway.aclose

    with running_router(make_app) as url:
        yield url, subscriber


def _token(expires_in_s: float = 600) -> str:
    claims = {"sub": "c1", "role": "CUSTOMER", "exp": int(time.time() + expires_in_s)}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _sse(
    url: str, query: str, variables: dict[str, Any], token: str | None = None
) -> Generator[tuple[str, Any], None, None]:
    headers = {"accept": "text/event-stream", **({"authorization": f"Bearer {token}"} if token else {})}
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST", f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers
        ) as response,
    ):
        assert response.status_code == 200
        event, data = None, ""
        for line in response.iter_lines():
            if line.startswith(":"):
                yield "keepalive", None
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and event is not None:
                yield event, json.loads(data) if data else None
                event, data = None, ""


def _ws(url: str) -> ClientConnection:
    return connect(url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]


def _recv(socket: ClientConnection) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=10))


def _closed_with(socket: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def _metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(name)


def test_sse_streams_each_event_with_its_entity_fields_then_completes() -> None:
    with router() as (url, subscriber):
        events = [e for e in _sse(url, ADDED, {"n": 3}, _token()) if e[0] != "keepalive"]
        assert events[-1] == ("complete", None)
        assert [data for _, data in events[:-1]] == [
            {
                "data": {
                    "reviewAdded": {"id": str(n), "body": f"review {n}", "product": {"upc": "p1", "name": "Name of p1"}}
                }
            }
            for n in range(3)
        ]
        # the subgraph got a subscription operation, and the caller's claims in their header
        assert subscriber.bodies[0]["query"].startswith("subscription")
        assert decode_claims(subscriber.headers[0][CLAIMS_HEADER])["sub"] == "c1"
        assert subscriber.closed == 1


def test_sse_keeps_a_quiet_stream_alive_and_a_disconnect_closes_the_subgraph_subscription() -> None:
    with router() as (url, subscriber):
        stream = _sse(url, ADDED, {"n": -1})
        seen = [next(stream) for _ in range(12)]
        assert ("keepalive", None) in seen or len([e for e in seen if e[0] == "next"]) == 12
        assert subscriber.open == 1 and _metric(url, "setrum_router_subscriptions_open") == 1
        stream.close()
        give_up = time.monotonic() + 10
        while subscriber.open or _metric(url, "setrum_router_subscriptions_open"):
            assert time.monotonic() < give_up, "the subgraph subscription was not closed"
            time.sleep(0.05)
        assert subscriber.closed == 1


def test_the_process_limit_refuses_one_more_subscription() -> None:
    with router(max_opened=1) as (url, _subscriber):
        first = _sse(url, ADDED, {"n": -1})
        assert next(first)[0] in ("next", "keepalive")
        refused = [e for e in _sse(url, ADDED, {"n": 1}) if e[0] != "keepalive"]
        assert refused[-1] == ("complete", None)
        assert refused[0][1]["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        first.close()


def test_an_open_stream_holds_no_overload_slot() -> None:
    """The overload limit counts a request until its answer starts: with room for one request at a
    time, two streams stay open and a query still gets in (a stream holding its slot refused both)."""
    with router(overload={"initial_limit": 1, "min_limit": 1, "max_limit": 1, "queue_timeout_s": 0}) as (url, _):
        streams = [_sse(url, ADDED, {"n": -1}) for _ in range(2)]
        assert [next(stream)[0] in ("next", "keepalive") for stream in streams] == [True, True]
        query = httpx.post(f"{url}/graphql", json={"query": "{ latest { id } }"}, timeout=10)
        for stream in streams:
            stream.close()
    assert query.status_code == 200, query.text
    assert "OVERLOADED" not in query.text


def test_a_subscription_over_plain_json_is_refused() -> None:
    with router() as (url, subscriber):
        body = httpx.post(f"{url}/graphql", json={"query": ADDED, "variables": {"n": 1}}, timeout=10).json()
        assert body["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_NEEDS_STREAM" and "data" not in body
        assert subscriber.bodies == []


URQL_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
)


def test_a_query_from_a_client_that_lists_every_type_json_first_is_answered_as_json() -> None:
    # urql sends this Accept for every query; answering it as a stream broke the web app's fetches.
    with router() as (url, _subscriber):
        response = httpx.post(
            f"{url}/graphql", json={"query": "{ latest { id } }"}, headers={"accept": URQL_ACCEPT}, timeout=10
        )
        assert response.headers["content-type"].startswith("application/graphql-response+json")
        assert (
            "errors" not in response.json()
            or response.json()["errors"][0]["extensions"]["code"] != "SUBSCRIPTION_NEEDS_STREAM"
        )
        streamed = httpx.post(
            f"{url}/graphql",
            json={"query": ADDED, "variables": {"n": 1}},
            headers={"accept": "text/event-stream, application/json", "authorization": f"Bearer {_token()}"},
            timeout=10,
        )
        assert streamed.headers["content-type"].startswith("text/event-stream")


def test_graphql_ws_streams_and_a_client_complete_stops_the_subscription() -> None:
    with router() as (url, subscriber), _ws(url) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {_token()}"}}))
        assert _recv(socket) == {"type": "connection_ack"}
        socket.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": ADDED, "variables": {"n": -1}}}))
        first = _recv(socket)
        assert first["type"] == "next" and first["payload"]["data"]["reviewAdded"]["product"]["name"] == "Name of p1"
        socket.send(json.dumps({"id": "s", "type": "complete"}))
        give_up = time.monotonic() + 10
        while subscriber.open:
            assert time.monotonic() < give_up
            time.sleep(0.05)
        # the operation's id is free again; a finite one ends with complete
        socket.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": ADDED, "variables": {"n": 1}}}))
        messages = [_recv(socket)]
        while messages[-1].get("type") != "complete" or messages[-1].get("id") != "s" or len(messages) < 2:
            messages.append(_recv(socket))
        assert [m["type"] for m in messages if m.get("id") == "s"][-2:] == ["next", "complete"]


@pytest.mark.parametrize(
    ("messages", "code"),
    [
        ([{"type": "subscribe", "id": "1", "payload": {"query": ADDED}}], 4401),  # before connection_init
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429),
        ([{"type": "connection_init"}, "not json"], 4400),
        ([{"type": "connection_init"}, {"type": "unknown"}], 4400),
        ([{"type": "connection_init", "payload": {"Authorization": "Bearer forged"}}], 4403),
    ],
)
def test_graphql_ws_protocol_errors_close_the_socket_with_their_code(messages: list[Any], code: int) -> None:
    with router() as (url, _subscriber), _ws(url) as socket:
        for message in messages:
            socket.send(message if isinstance(message, str) else json.dumps(message))
        assert _closed_with(socket) == code


def test_graphql_ws_closes_without_init_without_the_subprotocol_and_when_the_token_expires() -> None:
    with router(connection_init_timeout_s=0.3) as (url, subscriber):
        with _ws(url) as silent:
            assert _closed_with(silent) == 4408
        with connect(url.replace("http://", "ws://") + "/graphql") as no_protocol:
            assert _closed_with(no_protocol) == 4406
        with _ws(url) as socket:
            socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {_token(2)}"}}))
            assert _recv(socket) == {"type": "connection_ack"}
            payload = {"query": ADDED, "variables": {"n": -1}}
            socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            assert _closed_with(socket) == 4403  # the events keep coming until the token expires
        give_up = time.monotonic() + 10
        while subscriber.open:
            assert time.monotonic() < give_up
            time.sleep(0.05)


def test_one_socket_runs_at_most_max_per_connection_operations() -> None:
    with router(max_per_connection=2) as (url, _subscriber), _ws(url) as socket:
        socket.send(json.dumps({"type": "connection_init"}))
        assert _recv(socket) == {"type": "connection_ack"}
        for op in ("a", "b", "c"):
            socket.send(
                json.dumps({"id": op, "type": "subscribe", "payload": {"query": ADDED, "variables": {"n": -1}}})
            )
        refused = None
        for _ in range(50):
            message = _recv(socket)
            if message["type"] == "error":
                refused = message
                break
        assert refused is not None and refused["id"] == "c"
        assert refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"


def test_authorization_directives_apply_to_each_events_selection() -> None:
    query = "subscription($n: Int!) { reviewAdded(count: $n) { id author } }"
    with router() as (url, subscriber):
        events = [e for e in _sse(url, query, {"n": 2}) if e[0] == "next"]
        assert [e[1]["data"] for e in events] == [
            {"reviewAdded": {"id": "0", "author": None}},
            {"reviewAdded": {"id": "1", "author": None}},
        ]
        for _, body in events:
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
                (["reviewAdded", "author"], "UNAUTHORIZED_FIELD_OR_TYPE")
            ]
        assert "author" not in subscriber.bodies[0]["query"]  # never asked of the subgraph
