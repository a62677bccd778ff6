"""Subscriptions through the router, against the real processes: GraphQL over SSE and graphql-transport-ws,
transactions' purchaseStatus with each event's meter resolved by master (docs/router.md §11 Subscriptions)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from setrum_common.demo_data import METERS

from .conftest import Api
from .test_purchase_flow import active_meter, buy, sign_up

STATUS = """subscription Status($id: ID!) {
  purchaseStatus(id: $id) { id status token meter { number holderName } customer { email } }
}"""


def sse_events(
    api: Api, query: str, variables: dict[str, Any], token: str | None = None, timeout_s: float = 60
) -> Generator[tuple[str, Any], None, None]:
    """(event, data) of a GraphQL-over-SSE response, in order, until the server ends it."""
    headers = {"accept": "text/event-stream"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    with (
        httpx.Client(timeout=timeout_s) as client,
        client.stream(
            "POST", api.system.router_url, json={"query": query, "variables": variables}, headers=headers
        ) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield from parse_sse(response.iter_lines())


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event, decoded data) per server-sent event; comment lines (keep-alives) are skipped."""
    event, data = None, []
    for line in lines:
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and event is not None:
            text = "\n".join(data)
            yield event, json.loads(text) if text else None
            event, data = None, []


def ws_url(api: Api) -> str:
    return api.system.router_url.replace("http://", "ws://", 1)


@contextmanager
def ws_open(api: Api, token: str | None) -> Iterator[ClientConnection]:
    """A graphql-transport-ws socket on the router, ``connection_init`` sent (the token in its payload)."""
    with connect(ws_url(api), subprotocols=["graphql-transport-ws"], open_timeout=30) as socket:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        yield socket


def ws_next(socket: ClientConnection, timeout_s: float = 60) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=timeout_s))


def metric(api: Api, service: str, name: str) -> float:
    """A sample's value from a service's /metrics (``name`` with its labels when it has any; absent: 0)."""
    url = api.system.router_url.replace("/graphql", "/metrics") if service == "router" else None
    if url is None:
        url = api.system.spec(service).base_url + "/metrics"
    text = httpx.get(url, timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def wait_for(check: Any, timeout_s: float = 20) -> None:
    give_up = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < give_up, "condition not met in time"
        time.sleep(0.1)


@pytest.fixture
def pending_meter(api: Api) -> Iterator[str]:
    """A meter whose purchases the biller keeps PENDING (a thousand polls) for the length of one test."""
    meter = active_meter(index_from=30)
    fault = {"mode": "pending_then_success", "meterNumber": meter, "pendingPolls": 1000}
    assert api.biller("PUT", "/v1/faults", fault).status_code < 300
    yield meter
    api.biller("DELETE", "/v1/faults")


def holder_of(meter: str) -> str:
    return next(m.holder_name for m in METERS if m.number == meter)


def test_sse_follows_a_pending_purchase_until_it_settles_with_the_meter_from_master(api: Api) -> None:
    token, _ = sign_up(api, balance=300_000)
    meter = active_meter(index_from=20)
    fault = {"mode": "pending_then_success", "meterNumber": meter, "pendingPolls": 1}
    assert api.biller("PUT", "/v1/faults", fault).status_code < 300
    try:
        first = buy(api, token, meter, 20_000)["data"]["purchaseToken"]
    finally:
        api.biller("DELETE", "/v1/faults")
    assert first["status"] == "PENDING"
    events = list(sse_events(api, STATUS, {"id": first["id"]}, token))
    assert events[-1] == ("complete", None)
    bodies = [data for event, data in events if event == "next"]
    assert all("errors" not in body for body in bodies), bodies
    statuses = [body["data"]["purchaseStatus"]["status"] for body in bodies]
    assert statuses[0] == "PENDING" and statuses[-1] == "SUCCESS"
    assert len(set(statuses)) == len(statuses)  # one event per change
    settled = bodies[-1]["data"]["purchaseStatus"]
    assert len(settled["token"]) == 20
    # meter.holderName is master's, customer.email users': resolved for each event after the subgraph sent it
    assert settled["meter"] == {"number": meter, "holderName": holder_of(meter)}
    assert settled["customer"]["email"].startswith("e2e-")


def test_graphql_ws_answers_a_settled_purchase_then_completes(api: Api) -> None:
    token, _ = sign_up(api, balance=300_000)
    meter = active_meter(index_from=22)
    purchase = buy(api, token, meter, 20_000)["data"]["purchaseToken"]
    assert purchase["status"] == "SUCCESS"
    with ws_open(api, token) as socket:
        assert ws_next(socket) == {"type": "connection_ack"}
        socket.send(json.dumps({"type": "ping"}))
        assert ws_next(socket) == {"type": "pong"}
        socket.send(
            json.dumps(
                {"id": "a", "type": "subscribe", "payload": {"query": STATUS, "variables": {"id": purchase["id"]}}}
            )
        )
        event = ws_next(socket)
        assert event["type"] == "next" and event["id"] == "a", event
        status = event["payload"]["data"]["purchaseStatus"]
        assert status["status"] == "SUCCESS" and status["token"] == purchase["token"]
        assert status["meter"] == {"number": meter, "holderName": holder_of(meter)}
        assert ws_next(socket) == {"id": "a", "type": "complete"}
        # a query over the same socket: one next, then complete
        socket.send(json.dumps({"id": "q", "type": "subscribe", "payload": {"query": "{ wallet { balance } }"}}))
        answer = ws_next(socket)
        assert answer["type"] == "next" and answer["payload"]["data"]["wallet"]["balance"]
        assert ws_next(socket) == {"id": "q", "type": "complete"}


def test_unauthenticated_subscriptions_are_refused(api: Api) -> None:
    token, _ = sign_up(api, balance=300_000)
    purchase = buy(api, token, active_meter(index_from=23), 20_000)["data"]["purchaseToken"]
    # SSE, anonymous: the @authenticated root field is refused before any subgraph is asked
    events = list(sse_events(api, STATUS, {"id": purchase["id"]}))
    assert events[-1] == ("complete", None) and len(events) == 2
    codes = [e["extensions"]["code"] for e in events[0][1]["errors"]]
    assert codes == ["UNAUTHORIZED_FIELD_OR_TYPE"] and "data" not in events[0][1]
    # SSE with a token that is not valid: 401 before any stream
    bad = httpx.post(
        api.system.router_url,
        json={"query": STATUS, "variables": {"id": purchase["id"]}},
        headers={"accept": "text/event-stream", "authorization": "Bearer not-a-token"},
        timeout=30,
    )
    assert bad.status_code == 401 and bad.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # graphql-ws with a bad token: closed 4403 at connection_init
    with ws_open(api, "not-a-token") as socket:
        with pytest.raises(ConnectionClosed) as closed:
            ws_next(socket)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    # graphql-ws anonymous: acknowledged, and the subscription answered with an error
    with ws_open(api, None) as socket:
        assert ws_next(socket) == {"type": "connection_ack"}
        socket.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": STATUS, "variables": {"id": purchase["id"]}}}
            )
        )
        refused = ws_next(socket)
        assert refused["type"] == "error" and refused["id"] == "1"
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    # another customer's purchase: the owner check of transactions answers
    other, _ = sign_up(api)
    events = list(sse_events(api, STATUS, {"id": purchase["id"]}, other))
    assert events[-1] == ("complete", None)
    assert any(e["extensions"]["code"] == "FORBIDDEN" for _, d in events[:-1] for e in d.get("errors", [])), events


def test_client_disconnect_closes_the_subgraph_subscription(api: Api, pending_meter: str) -> None:
    token, _ = sign_up(api, balance=300_000)
    purchase = buy(api, token, pending_meter, 20_000)["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING"
    assert metric(api, "router", "setrum_router_subgraph_subscriptions_open") == 0
    # SSE: read the first event, then hang up
    stream = sse_events(api, STATUS, {"id": purchase["id"]}, token)
    event, data = next(stream)
    assert event == "next" and data["data"]["purchaseStatus"]["status"] == "PENDING"
    assert metric(api, "router", "setrum_router_subgraph_subscriptions_open") == 1
    assert metric(api, "transactions", "setrum_purchase_status_subscriptions") == 1
    stream.close()
    wait_for(lambda: metric(api, "router", "setrum_router_subgraph_subscriptions_open") == 0)
    wait_for(lambda: metric(api, "transactions", "setrum_purchase_status_subscriptions") == 0)
    assert metric(api, "router", "setrum_router_subscriptions_open") == 0
    # graphql-ws: a client 'complete' stops one operation, closing the socket stops the rest
    with ws_open(api, token) as socket:
        assert ws_next(socket) == {"type": "connection_ack"}
        for op in ("x", "y"):
            payload = {"query": STATUS, "variables": {"id": purchase["id"]}}
            socket.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
            assert ws_next(socket)["type"] == "next"
        wait_for(lambda: metric(api, "transactions", "setrum_purchase_status_subscriptions") == 2)
        socket.send(json.dumps({"id": "x", "type": "complete"}))
        wait_for(lambda: metric(api, "transactions", "setrum_purchase_status_subscriptions") == 1)
    wait_for(lambda: metric(api, "router", "setrum_router_subgraph_subscriptions_open") == 0)
    wait_for(lambda: metric(api, "transactions", "setrum_purchase_status_subscriptions") == 0)


def test_one_socket_runs_at_most_ten_operations(api: Api, pending_meter: str) -> None:
    token, _ = sign_up(api, balance=300_000)
    purchase = buy(api, token, pending_meter, 20_000)["data"]["purchaseToken"]
    with ws_open(api, token) as socket:
        assert ws_next(socket) == {"type": "connection_ack"}
        for n in range(10):
            payload = {"query": STATUS, "variables": {"id": purchase["id"]}}
            socket.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
            assert ws_next(socket)["type"] == "next"
        socket.send(
            json.dumps(
                {"id": "10", "type": "subscribe", "payload": {"query": STATUS, "variables": {"id": purchase["id"]}}}
            )
        )
        refused = ws_next(socket)
        assert refused["type"] == "error" and refused["id"] == "10"
        assert refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        # the same id twice is a protocol error: closed 4409
        socket.send(
            json.dumps(
                {"id": "3", "type": "subscribe", "payload": {"query": STATUS, "variables": {"id": purchase["id"]}}}
            )
        )
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws_next(socket)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
    wait_for(lambda: metric(api, "router", "setrum_router_subgraph_subscriptions_open") == 0)


def test_a_subscription_over_plain_json_is_refused_with_a_pointer(api: Api) -> None:
    body = api(STATUS, {"id": str(uuid.uuid4())})
    assert body["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_NEEDS_STREAM"
    assert "text/event-stream" in body["errors"][0]["message"]


def test_a_subgraph_refuses_a_websocket_the_router_did_not_sign(api: Api) -> None:
    """Subscriptions reach transactions only from the router: an unsigned handshake, or one signed with a key the
    subgraph does not hold, is refused before the socket opens, and counted."""
    from websockets.exceptions import InvalidStatus

    from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER, RouterSigner, encode_claims, generate_private_key

    url = api.system.spec("transactions").base_url.replace("http://", "ws://", 1) + "/graphql"
    before = metric(api, "transactions", 'setrum_router_signature_rejected_total{reason="missing"}')
    with pytest.raises(InvalidStatus) as unsigned:
        connect(url, subprotocols=["graphql-transport-ws"], open_timeout=30)  # type: ignore[list-item]
    assert unsigned.value.response.status_code == 403
    assert metric(api, "transactions", 'setrum_router_signature_rejected_total{reason="missing"}') == before + 1
    claims = encode_claims({"sub": str(uuid.uuid4()), "role": "ADMIN"})
    forged = RouterSigner(generate_private_key(), "router").sign("GET", "/graphql", b"", claims)
    with pytest.raises(InvalidStatus) as wrong_key:
        connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers={SIGNATURE_HEADER: forged, CLAIMS_HEADER: claims},
            open_timeout=30,
        )
    assert wrong_key.value.response.status_code == 403
