"""transactions' purchaseStatus subscription over graphql-transport-ws (the socket the router opens; docs/router.md
§11 Subscriptions): the purchase now, each change, completion at a final status, the owner check, and no
subscription over plain HTTP."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.websockets import WebSocketDisconnect

from setrum_common.demo_data import METERS
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import TransactionsSettings

from .conftest import BUDI, SITI, token
from .fakes import FakeBiller, FakeMaster
from .helpers import BUY, REFRESH

with warnings.catch_warnings():  # its WebSocket session is what this needs; the httpx deprecation is about HTTP
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

STATUS = "subscription($id: ID!) { purchaseStatus(id: $id) { id status token meter { number } } }"


@pytest.fixture
def client(settings: TransactionsSettings, fake_master: FakeMaster, fake_biller: FakeBiller) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"subscription_poll_interval_s": 0.05})
    app = create_app(
        settings,
        master_transport=httpx.MockTransport(fake_master.handle),
        biller_transport=httpx.MockTransport(fake_biller.handle),
    )
    with TestClient(app) as test_client:
        yield test_client


def _post(client: TestClient, query: str, variables: dict[str, Any], customer: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token(customer)}"}
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()


def _subscribe(client: TestClient, customer: str, purchase_id: str) -> Any:
    socket = client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"authorization": f"Bearer {token(customer)}"}
    )
    ws = socket.__enter__()
    ws.send_text(json.dumps({"type": "connection_init"}))
    assert json.loads(ws.receive_text()) == {"type": "connection_ack"}
    ws.send_text(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STATUS, "variables": {"id": purchase_id}}})
    )
    return socket, ws


def test_a_pending_purchase_is_followed_until_it_settles(client: TestClient, fake_biller: FakeBiller) -> None:
    fake_biller.mode, fake_biller.pending_polls = "pending_then_success", 1
    bought = _post(client, BUY, {"meter": METERS[0].number, "denomination": "20000", "ref": "sub-1"}, SITI)
    purchase = bought["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING"
    socket, ws = _subscribe(client, SITI, purchase["id"])
    try:
        first = json.loads(ws.receive_text())
        assert first["type"] == "next" and first["payload"]["data"]["purchaseStatus"]["status"] == "PENDING"
        refreshed = _post(client, REFRESH, {"id": purchase["id"]}, SITI)["data"]["refreshPurchase"]
        assert refreshed["status"] == "SUCCESS"
        second = json.loads(ws.receive_text())
        settled = second["payload"]["data"]["purchaseStatus"]
        assert settled["status"] == "SUCCESS" and settled["token"] == refreshed["token"]
        assert settled["meter"] == {"number": METERS[0].number}  # the key master resolves the rest from
        assert json.loads(ws.receive_text()) == {"id": "1", "type": "complete"}
    finally:
        socket.__exit__(None, None, None)


def test_another_customers_purchase_and_an_unknown_one_are_errors(client: TestClient) -> None:
    purchase = _post(client, BUY, {"meter": METERS[0].number, "denomination": "20000", "ref": "sub-2"}, SITI)
    for customer, purchase_id, code in (
        (BUDI, purchase["data"]["purchaseToken"]["id"], "FORBIDDEN"),
        (SITI, "00000000-0000-0000-0000-000000000000", "NOT_FOUND"),
    ):
        socket, ws = _subscribe(client, customer, purchase_id)
        try:
            message = json.loads(ws.receive_text())
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert [e["extensions"]["code"] for e in errors] == [code], message
        except WebSocketDisconnect:  # pragma: no cover - the error must come as a message, not a close
            pytest.fail("the socket was closed instead of answering the error")
        finally:
            socket.__exit__(None, None, None)


def test_a_subscription_over_http_is_a_clear_400(client: TestClient) -> None:
    for method in ("POST", "GET"):
        if method == "POST":
            response = client.post("/graphql", json={"query": STATUS, "variables": {"id": "x"}})
        else:
            response = client.get("/graphql", params={"query": STATUS, "variables": json.dumps({"id": "x"})})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_malformed_operation_name_is_still_a_400_not_a_500(client: TestClient) -> None:
    # found by tests/security/test_fuzz.py: the subscription check must not choke on a list
    response = client.post("/graphql", json={"query": "{ wallet { balance } }", "operationName": []})
    assert response.status_code == 400
