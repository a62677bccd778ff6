"""Chaos tests: the five real processes (the launcher of tests/e2e), a burst of purchases, and a
failure in the middle of it. Afterwards the system must settle on its own and prove it with the
invariants in :func:`settled_and_consistent`.

Every service keeps its default timeouts and deadlines (the router's 10 s default deadline flows to
transactions and, less the margins, to the biller), with a quick settlement worker so that each case
stays in seconds; reads never refresh a purchase (``TRANSACTIONS_PENDING_REFRESH_AFTER_S=0``), so only the
settlement worker can settle what the failure left PENDING.
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from setrum.launcher import System, SystemPorts
from setrum_common.auth import Role, issue_customer_token
from setrum_common.demo_data import ADMIN, CUSTOMERS, METERS
from setrum_common.settings import DEV_JWT_SECRET
from setrum_common.trust.service_tokens import service_headers
from sts.cli import inspect_command
from tests.e2e.conftest import SERVICES, _backends, assert_money_invariants, create_postgres_databases

JAKARTA_OFFSET = timedelta(hours=7)
CHAOS_ENV = {
    "TRANSACTIONS_PENDING_REFRESH_AFTER_S": "0",
    "TRANSACTIONS_SETTLE_INTERVAL_S": "0.5",
    "TRANSACTIONS_SETTLE_FIRST_AFTER_S": "3",
    "TRANSACTIONS_SETTLE_BACKOFF_MAX_S": "3",
    "TRANSACTIONS_BILLER_BREAKER_COOLDOWN_S": "1",
    "TRANSACTIONS_SHUTDOWN_DRAIN_S": "1",
    "ROUTER_SHUTDOWN_DRAIN_S": "1",
    # Bursts of purchases per buyer far beyond a person's; rate limits are tested in tests/security.
    "ROUTER_RATE_LIMITS__ENABLED": "false",
}
BUYERS = [c.id for c in CUSTOMERS[1:5]]
SETTLE_WITHIN_S = 60

BUY = """mutation($meter: String!, $denomination: Decimal!, $ref: String!) {
  purchaseToken(meterNumber: $meter, denomination: $denomination, clientReference: $ref) { id status }
}"""
TOP_UP = 'mutation($ref: String!) { topUpWallet(amount: "20000000", paymentReference: $ref) { balance } }'
BY_REFERENCE = "query($ref: String!) { purchaseByReference(clientReference: $ref) { id status token kwh meterNumber } }"
RECONCILIATION = "{ walletReconciliation { ok wallets_checked: walletsChecked } }"
BILLER_RECONCILIATION = """query($date: Date!) {
  billerReconciliation(date: $date) { ok truncated lines { status count billerCount } differences { channelReference problem } }
}"""


def bearer(customer_id: str) -> dict[str, str]:
    role = Role.ADMIN if customer_id == ADMIN.id else Role.CUSTOMER
    return {"authorization": f"Bearer {issue_customer_token(DEV_JWT_SECRET, customer_id, role)[0]}"}


@dataclass
class Burst:
    """The purchases of one case: (customer, clientReference) -> the answers the client got."""

    meter: str
    orders: list[tuple[str, str]] = field(default_factory=list)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def unanswered(self) -> list[tuple[str, str]]:
        """Orders for which the client never learnt its purchase id (it will retry them)."""
        return [(c, r) for c, r in self.orders if not any(_purchase(a) for a in self.answers[r])]


def _purchase(answer: dict[str, Any]) -> dict[str, Any] | None:
    data = answer.get("data") or {}
    return data.get("purchaseToken")


class Chaos:
    """The system under test and the client side of the storm."""

    def __init__(self, system: System, *, router_url: str | None = None) -> None:
        self.system = system
        self.database_urls = system.database_urls
        self.router_url = router_url or system.router_url  # a load balancer in front of routers, or the one

    async def graphql(
        self, http: httpx.AsyncClient, query: str, variables: dict[str, Any], customer: str
    ) -> dict[str, Any]:
        try:
            response = await http.post(
                self.router_url, json={"query": query, "variables": variables}, headers=bearer(customer)
            )
        except httpx.HTTPError as error:  # the router itself may be what went away
            return {"transport_error": repr(error)}
        if response.status_code >= 500 and not response.headers.get("content-type", "").startswith("application/"):
            return {"transport_error": f"HTTP {response.status_code}"}
        return response.json()

    async def fund_buyers(self) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            for customer in BUYERS:
                body = await self.graphql(http, TOP_UP, {"ref": f"chaos-{uuid.uuid4().hex}"}, customer)
                assert "errors" not in body, body

    async def burst(self, size: int, meter_index: int, *, spread_s: float = 1.0) -> Burst:
        """``size`` purchases over ``spread_s`` seconds, each client waiting for its own answer."""
        meter = [m for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014][meter_index].number
        burst = Burst(meter)
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=size)) as http:

            async def one(i: int) -> None:
                await asyncio.sleep(spread_s * i / size)
                customer, ref = BUYERS[i % len(BUYERS)], f"chaos-{uuid.uuid4().hex[:16]}"
                burst.orders.append((customer, ref))
                burst.answers[ref] = [
                    await self.graphql(http, BUY, {"meter": meter, "denomination": "20000", "ref": ref}, customer)
                ]

            await asyncio.gather(*(one(i) for i in range(size)))
        return burst

    async def retry_unanswered(self, burst: Burst, within_s: float = 30.0) -> None:
        """What a client does after a transport error: the same request, same clientReference, again."""
        give_up = time.monotonic() + within_s
        async with httpx.AsyncClient(timeout=30) as http:
            while (todo := burst.unanswered()) and time.monotonic() < give_up:
                for customer, ref in todo:
                    variables = {"meter": burst.meter, "denomination": "20000", "ref": ref}
                    burst.answers[ref].append(await self.graphql(http, BUY, variables, customer))
                if burst.unanswered():
                    await asyncio.sleep(0.5)
        assert not burst.unanswered(), [burst.answers[r] for _, r in burst.unanswered()]

    async def settled_and_consistent(self, burst: Burst) -> None:
        """Within SETTLE_WITHIN_S: nothing PENDING, one purchase per reference, wallets equal their ledgers,
        every token decodes for its meter and energy, and the biller's record matches ours one to one."""
        give_up = time.monotonic() + SETTLE_WITHIN_S
        async with httpx.AsyncClient(timeout=30) as http:
            while True:
                found = {
                    ref: await self.graphql(http, BY_REFERENCE, {"ref": ref}, customer)
                    for customer, ref in burst.orders
                }
                statuses = {ref: (body.get("data") or {}).get("purchaseByReference") for ref, body in found.items()}
                pending = [ref for ref, p in statuses.items() if p is None or p["status"] not in ("SUCCESS", "FAILED")]
                if not pending or time.monotonic() > give_up:
                    break
                await asyncio.sleep(1.0)
            assert not pending, {ref: statuses[ref] for ref in pending}
            settled = {ref: p for ref, p in statuses.items() if p is not None}  # every one, after the assert
            for ref, purchase in settled.items():
                ids = {p["id"] for a in burst.answers[ref] if (p := _purchase(a))}
                assert ids == {purchase["id"]}, (ref, ids, purchase)  # one purchase per reference, ever

            wallets = await self._report(http, RECONCILIATION, {}, give_up)
            assert wallets["data"]["walletReconciliation"]["ok"], wallets

            succeeded = [p for p in settled.values() if p["status"] == "SUCCESS"]
            assert succeeded, "the burst sold nothing at all"
            for purchase in succeeded:
                out = io.StringIO()
                argv = [
                    "--meter",
                    purchase["meterNumber"],
                    "--database-url",
                    self.biller_database_url,
                    purchase["token"],
                ]
                # (in a thread: it runs its own event loop to read the biller's meter register)
                assert await asyncio.to_thread(inspect_command, argv, out=out) == 0, out.getvalue()
                assert purchase["kwh"] in out.getvalue(), out.getvalue()

            now = datetime.now(UTC) + JAKARTA_OFFSET
            for day in {now.date(), (now - timedelta(minutes=10)).date()}:
                report = await self._report(http, BILLER_RECONCILIATION, {"date": day.isoformat()}, give_up)
                assert report["data"]["billerReconciliation"]["ok"], report

    async def _report(
        self, http: httpx.AsyncClient, query: str, variables: dict[str, Any], give_up: float
    ) -> dict[str, Any]:
        """An admin report, asked again until it answers or the settle time is up: the first statement on a
        pooled connection that a database restart dropped fails once (no pre-ping), and that is no verdict."""
        while True:
            answer = await self.graphql(http, query, variables, ADMIN.id)
            if answer.get("data") or time.monotonic() > give_up:
                return answer
            await asyncio.sleep(1.0)

    async def biller(self, method: str, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        """A request to the biller's own API (faults, its record), signed as transactions."""
        body = orjson.dumps(payload) if payload is not None else b""
        signed = service_headers(self.system.keyring("transactions"), "biller", method, path, body)
        headers = {**signed, "content-type": "application/json"}
        async with httpx.AsyncClient(timeout=30) as http:
            return await http.request(method, self.system.spec("biller").base_url + path, content=body, headers=headers)

    @property
    def biller_database_url(self) -> str:
        return self.system.spec("biller").env["BILLER_DATABASE_URL"]


def start_system(data_dir: Path, database_urls: dict[str, str], env: dict[str, str] | None = None) -> System:
    """The system's processes on free ports with CHAOS_ENV (and ``env`` over it)."""
    ports = SystemPorts.free()
    extra_env = {**CHAOS_ENV, **(env or {})}
    system = System(data_dir, ports=ports, database_urls=database_urls, log_dir=data_dir / "logs", extra_env=extra_env)
    system.start(timeout_s=120)
    return system


@pytest.fixture(scope="module", params=_backends())
def chaos(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    backend = request.param
    database_urls = create_postgres_databases("setrum_chaos", SERVICES) if backend == "postgres" else {}
    system = start_system(tmp_path_factory.mktemp(f"chaos-{backend}"), database_urls)
    try:
        harness = Chaos(system)
        asyncio.run(harness.fund_buyers())
        yield harness
        assert_money_invariants(system)  # after every chaos case on this backend
    finally:
        system.stop()
