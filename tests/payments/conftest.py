"""The payment provider and transactions wired to each other in process, on SQLite or PostgreSQL.

Transactions' calls to the provider and the provider's notifications to transactions both go over
ASGI, so every test exercises the real HTTP routes, signatures and databases of both services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from payments.app import create_app as create_payments_app
from payments.settings import PaymentsSettings
from setrum_common.payment_signing import NOTIFICATION_SIGNATURE_HEADER, canonical_body, sign_notification
from setrum_common.settings import DEV_PAYMENTS_SECRET
from subgraphs.transactions.app import create_app as create_transactions_app
from subgraphs.transactions.settings import TransactionsSettings
from tests.postgres import POSTGRES_URL, scratch_database
from tests.transactions.conftest import GraphQL
from tests.transactions.fakes import FakeBiller, FakeMaster

NOTIFY_PATH = "/internal/payments/notify"
CREATE = """mutation($amount: Decimal!, $method: TopUpMethod!, $bank: String) {
  createTopUp(amount: $amount, method: $method, bankCode: $bank) {
    id amount method status bankCode bankName vaNumber qrisPayload expiresAt paidAt
  }
}"""
READ = "query($id: ID!) { topUp(id: $id) { id status paidAt } }"
BALANCE = "{ wallet { balance } }"


class LazyASGI(httpx.AsyncBaseTransport):
    """An ASGI transport whose app is set after construction (the two apps call each other)."""

    def __init__(self) -> None:
        self.app: Starlette | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.app is not None
        return await httpx.ASGITransport(app=self.app).handle_async_request(request)


class Clock:
    """The provider's clock, which tests move forward to expire intents."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Pair:
    gql: GraphQL
    transactions: Starlette
    provider: Starlette
    tx_http: httpx.AsyncClient
    provider_http: httpx.AsyncClient
    clock: Clock
    to_provider: LazyASGI  # transactions -> provider
    to_transactions: LazyASGI  # provider -> transactions (notifications)

    async def create(self, customer: str, amount: int = 100_000, method: str = "VIRTUAL_ACCOUNT") -> dict[str, Any]:
        body = await self.gql(CREATE, {"amount": str(amount), "method": method}, as_=customer)
        assert "errors" not in body, body
        top_up: dict[str, Any] = body["data"]["createTopUp"]
        return top_up

    async def pay(self, handle: str, amount: int | None = None) -> httpx.Response:
        payload: dict[str, Any] = {"handle": handle}
        if amount is not None:
            payload["amount"] = str(amount)
        return await self.provider_http.post("/v1/simulator/pay", json=payload)

    async def balance(self, customer: str) -> str:
        body = await self.gql(BALANCE, as_=customer)
        return str(body["data"]["wallet"]["balance"])

    async def notify(
        self,
        payload: dict[str, Any],
        *,
        secret: str = DEV_PAYMENTS_SECRET,
        timestamp: int | None = None,
        body: bytes | None = None,
    ) -> httpx.Response:
        """A notification as the provider sends one (or, with the arguments, as an attacker could)."""
        content = canonical_body(payload) if body is None else body
        signature = sign_notification(secret, canonical_body(payload), timestamp=timestamp)
        headers = {NOTIFICATION_SIGNATURE_HEADER: signature, "content-type": "application/json"}
        return await self.tx_http.post(NOTIFY_PATH, content=content, headers=headers)

    async def refused(self) -> dict[str, float]:
        text = (await self.tx_http.get("/metrics")).text
        counts: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("setrum_payment_notifications_refused_total{"):
                reason = line.split('reason="', 1)[1].split('"', 1)[0]
                counts[reason] = float(line.rsplit(" ", 1)[1])
        return counts

    async def intent(self, intent_id: str) -> dict[str, Any]:
        from payments.service import PaymentsService

        service: PaymentsService = self.provider.state.service
        view = await service.view(intent_id)
        assert view is not None
        return view.to_json()


def notification(
    top_up_id: str,
    intent_id: str,
    amount: str,
    *,
    payment_id: str,
    paid_at: datetime | None = None,
    delivery_id: str | None = None,
) -> dict[str, Any]:
    import uuid

    return {
        "type": "payment.paid",
        "deliveryId": delivery_id or uuid.uuid4().hex,
        "paymentId": payment_id,
        "intentId": intent_id,
        "merchantReference": top_up_id,
        "amount": amount,
        "currency": "IDR",
        "method": "VIRTUAL_ACCOUNT",
        "paidAt": (paid_at or datetime.now(UTC)).isoformat(),
    }


def _backends() -> list[Any]:
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(not POSTGRES_URL, reason="no PostgreSQL"))]


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


@pytest.fixture
async def pair(backend: str, tmp_path: Path) -> AsyncIterator[Pair]:
    async with AsyncExitStack() as stack:
        if backend == "postgres":
            tx_url = await stack.enter_async_context(scratch_database("setrum_pay_tx"))
            pay_url = await stack.enter_async_context(scratch_database("setrum_pay_pr"))
        else:
            tx_url = f"sqlite+aiosqlite:///{tmp_path}/transactions.db"
            pay_url = f"sqlite+aiosqlite:///{tmp_path}/payments.db"
        to_provider, to_transactions = LazyASGI(), LazyASGI()
        clock = Clock()
        fake_master, fake_biller = FakeMaster(), FakeBiller()
        transactions = create_transactions_app(
            TransactionsSettings(
                database_url=tx_url,
                seed_demo_data=True,
                settle_interval_s=0,
                payments_url="http://payments.test",
                master_url="http://master.test/graphql",
                biller_url="http://biller.test",
            ),
            master_transport=httpx.MockTransport(fake_master.handle),
            biller_transport=httpx.MockTransport(fake_biller.handle),
            payments_transport=to_provider,
        )
        provider = create_payments_app(
            PaymentsSettings(
                database_url=pay_url,
                notify_url=f"http://transactions.test{NOTIFY_PATH}",
                notify_interval_s=0.2,
                notify_backoff_max_s=0.5,
            ),
            clock=clock,
            notify_transport=to_transactions,
        )
        to_provider.app, to_transactions.app = provider, transactions
        await stack.enter_async_context(transactions.router.lifespan_context(transactions))
        await stack.enter_async_context(provider.router.lifespan_context(provider))
        tx_http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=transactions), base_url="http://transactions.test")
        )
        provider_http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=provider), base_url="http://payments.test")
        )
        yield Pair(
            GraphQL(tx_http), transactions, provider, tx_http, provider_http, clock, to_provider, to_transactions
        )
