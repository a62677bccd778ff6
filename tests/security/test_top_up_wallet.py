"""Issue 11: a signed-in customer could top up any amount with topUpWallet. It survives only as a
development convenience and as an admin's adjustment with a reason and an audit-log entry."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr

from setrum_common.auth import Role, issue_customer_token
from setrum_common.demo_data import ADMIN
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import TransactionsSettings
from tests.fixtures.router_signing import TestRouter
from tests.service_keys import production_key_settings
from tests.transactions.conftest import AGUS, SITI, error_code
from tests.transactions.fakes import FakeBiller, FakeMaster

JWT = "production-jwt-secret-for-this-test-0123456789"
TOP_UP = """mutation($amount: Decimal!, $ref: String!, $customer: ID, $reason: String) {
  topUpWallet(amount: $amount, paymentReference: $ref, customerId: $customer, reason: $reason) { balance }
}"""
AUDIT = "query($c: ID) { walletAdjustments(customerId: $c) { customerId amount reason adminId ledgerReference } }"
BALANCE = "{ wallet { balance entries(first: 1) { nodes { kind reference } } } }"


class Client:
    """GraphQL straight to production transactions, signed as its router signs (claims of our own tokens)."""

    def __init__(self, http: httpx.AsyncClient, router: TestRouter) -> None:
        self.http = http
        self.router = router

    async def __call__(self, query: str, variables: dict[str, Any] | None = None, *, as_: str) -> dict[str, Any]:
        role = Role.ADMIN if as_ == ADMIN.id else Role.CUSTOMER
        claims = jwt.decode(issue_customer_token(JWT, as_, role)[0], options={"verify_signature": False})
        content, headers = self.router.request(query, variables or {}, claims=claims)
        response = await self.http.post("/graphql", content=content, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


class _Users(BaseHTTPRequestHandler):
    """The users service's session route, as production transactions asks it: every account exists, version 0."""

    def do_GET(self) -> None:
        body = b'{"version": 0, "kept": null}' if self.path.startswith("/internal/sessions/") else b"{}"
        self.send_response(200 if body != b"{}" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def users_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Users)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture
async def production(tmp_path: Path, users_url: str) -> AsyncIterator[Client]:
    router = TestRouter()
    settings = TransactionsSettings(
        router_public_keys=router.public_keys,
        users_url=users_url,
        environment="production",
        jwt_secret=SecretStr(JWT),
        **production_key_settings("transactions"),
        payments_secret=SecretStr("production-payments-secret-0123456789abcdef"),
        database_url=f"sqlite+aiosqlite:///{tmp_path}/transactions.db",
        seed_demo_data=True,
        settle_interval_s=0,
    )
    app = create_app(
        settings,
        master_transport=httpx.MockTransport(FakeMaster().handle),
        biller_transport=httpx.MockTransport(FakeBiller().handle),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://transactions") as http,
    ):
        yield Client(http, router)


async def test_production_refuses_a_customers_top_up_wallet(production: Client) -> None:
    before = (await production(BALANCE, as_=SITI))["data"]["wallet"]["balance"]
    for amount in ("50000000", "10000"):
        body = await production(TOP_UP, {"amount": amount, "ref": f"attack-{amount}"}, as_=SITI)
        assert error_code(body) == "TOP_UP_REQUIRES_PAYMENT", body
    assert (await production(BALANCE, as_=SITI))["data"]["wallet"]["balance"] == before
    # nor may a customer pose as an admin adjustment
    posing = await production(TOP_UP, {"amount": "10000", "ref": "p-1", "customer": SITI, "reason": "gift"}, as_=SITI)
    assert error_code(posing) == "FORBIDDEN"


async def test_an_admin_adjustment_needs_a_reason_and_is_audited(production: Client) -> None:
    before = Decimal((await production(BALANCE, as_=AGUS))["data"]["wallet"]["balance"])
    for variables in ({"customer": AGUS}, {"customer": AGUS, "reason": "  "}, {"reason": "goodwill credit"}):
        body = await production(TOP_UP, {"amount": "20000", "ref": "adj-1", **variables}, as_=ADMIN.id)
        assert error_code(body) == "BAD_USER_INPUT", variables

    reason = "Goodwill: token delivered late on 2026-12-01 (ticket 4411)"
    variables = {"amount": "20000", "ref": "adj-1", "customer": AGUS, "reason": reason}
    assert (
        Decimal((await production(TOP_UP, variables, as_=ADMIN.id))["data"]["topUpWallet"]["balance"]) == before + 20000
    )
    assert "errors" not in await production(TOP_UP, variables, as_=ADMIN.id)  # a replay credits nothing more
    wallet = (await production(BALANCE, as_=AGUS))["data"]["wallet"]
    assert Decimal(wallet["balance"]) == before + 20000
    assert wallet["entries"]["nodes"] == [{"kind": "ADJUSTMENT", "reference": "adjust:adj-1"}]

    audit = (await production(AUDIT, {"c": AGUS}, as_=ADMIN.id))["data"]["walletAdjustments"]
    assert audit == [
        {
            "customerId": AGUS,
            "amount": "20000.00",
            "reason": reason,
            "adminId": ADMIN.id,
            "ledgerReference": "adjust:adj-1",
        }
    ]
    assert error_code(await production(AUDIT, {"c": AGUS}, as_=AGUS)) == "FORBIDDEN"
    report = await production("{ walletReconciliation { ok } }", as_=ADMIN.id)
    assert report["data"]["walletReconciliation"]["ok"] is True
