"""Concurrency guarantees on PostgreSQL, where writers really run in parallel.

Runs only when ``SETRUM_TEST_POSTGRES_URL`` names a PostgreSQL database
(``postgresql+asyncpg://user:pass@host/db``); each test migrates a fresh database there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from setrum_common.demo_data import ADMIN
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import TransactionsSettings
from tests.postgres import requires_postgres, scratch_database

from .conftest import AGUS, BUDI, DEWI, SITI, GraphQL, error_code
from .fakes import FakeBiller, FakeMaster
from .helpers import balance, buy, ledger, meter_where

pytestmark = [pytest.mark.postgres, requires_postgres]


@pytest.fixture
async def pg_app(fake_master: FakeMaster, fake_biller: FakeBiller) -> AsyncIterator[tuple[Starlette, GraphQL]]:
    """Transactions on a fresh PostgreSQL database, and a GraphQL client of it."""
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(scratch_database("setrum_tx"))
        app = create_app(
            TransactionsSettings(database_url=url, seed_demo_data=True, pending_refresh_after_s=0),
            master_transport=httpx.MockTransport(fake_master.handle),
            biller_transport=httpx.MockTransport(fake_biller.handle),
        )
        await stack.enter_async_context(app.router.lifespan_context(app))
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        )
        yield app, GraphQL(http)


@pytest.fixture
def pg_gql(pg_app: tuple[Starlette, GraphQL]) -> GraphQL:
    return pg_app[1]


async def test_concurrent_replays_overspending_and_cap_on_postgres(pg_gql: GraphQL, fake_biller: FakeBiller) -> None:
    gql = pg_gql
    # 20 concurrent replays: one purchase, one debit.
    before = await balance(gql, SITI)
    replays = await asyncio.gather(*(buy(gql, SITI, "14233784991", 20000, "pg-same") for _ in range(20)))
    assert len({r["data"]["purchaseToken"]["id"] for r in replays}) == 1
    assert await balance(gql, SITI) == before - Decimal("22500")
    assert [e["kind"] for e in await ledger(gql, SITI)].count("PURCHASE_DEBIT") == 1

    # Agus has 150,000: of 10 concurrent 50,000 purchases (52,500 each) exactly 2 can be paid.
    results = await asyncio.gather(*(buy(gql, AGUS, "14233784991", 50000, f"pg-agus-{i}") for i in range(10)))
    assert sum(1 for r in results if "errors" not in r) == 2
    assert {error_code(r) for r in results if "errors" in r} == {"INSUFFICIENT_BALANCE"}
    assert await balance(gql, AGUS) == Decimal("45000")

    # A 450 VA meter (cap 324 kWh) and 6 concurrent ~235 kWh purchases: exactly one passes the cap.
    small = meter_where(power_va=450, status="ACTIVE", instalment=Decimal(0))
    capped = await asyncio.gather(*(buy(gql, BUDI, small.number, 100000, f"pg-cap-{i}") for i in range(6)))
    assert sum(1 for r in capped if "errors" not in r) == 1
    assert {error_code(r) for r in capped if "errors" in r} == {"KWH_LIMIT_EXCEEDED"}

    # A mixed workload with failures (refunds), then the books must balance.
    fake_biller.fail_every = 2
    await asyncio.gather(
        *(buy(gql, c, "56001234568", 20000, f"pg-mix-{i}") for i, c in enumerate([SITI, BUDI, DEWI] * 6)),
        *(buy(gql, c, "56001234568", 20000, f"pg-mix-{i}") for i, c in enumerate([SITI, BUDI, DEWI] * 6)),
    )
    report = await gql(
        "{ walletReconciliation { ok walletMismatches { customerId } usageMismatches { month } } }", as_=ADMIN.id
    )
    assert report["data"]["walletReconciliation"]["ok"] is True, report


async def test_fifty_concurrent_purchases_pay_the_debt_exactly_on_postgres(
    pg_gql: GraphQL, fake_master: FakeMaster, fake_biller: FakeBiller
) -> None:
    from .test_instalments import concurrent_paydown

    await concurrent_paydown(pg_gql, fake_master, fake_biller, "pg-conc")


async def test_a_purchase_books_in_one_statement_on_postgres(pg_app: tuple[Starlette, GraphQL]) -> None:
    """The row, the kWh, the debit and its ledger entry go in ONE round trip (not four), in autocommit
    (no BEGIN/COMMIT round trips); a refusal (over the cap, short of balance) fails that statement as a
    whole and so still writes nothing."""
    from sqlalchemy import event

    app, gql = pg_app
    statements: list[str] = []
    booking_isolation: list[object] = []

    def seen(conn: Any, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split(None, 1)[0].upper())
        if statements[-1] == "WITH":
            booking_isolation.append(conn.get_execution_options().get("isolation_level"))

    before = await balance(gql, SITI)
    event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", seen)
    result = await buy(gql, SITI, "14233784991", 20000, "pg-one")
    event.remove(app.state.db.engine.sync_engine, "before_cursor_execute", seen)
    assert "errors" not in result, result
    # The idempotency read, the booking, the biller's answer recorded; the settlement worker may run
    # statements of its own meanwhile, but none inserts.
    assert statements.count("WITH") == 1 and "INSERT" not in statements, statements
    assert booking_isolation == ["AUTOCOMMIT"]
    assert await balance(gql, SITI) == before - Decimal("22500")
    entries = await ledger(gql, SITI)
    assert entries[0]["kind"] == "PURCHASE_DEBIT" and Decimal(entries[0]["balanceAfter"]) == before - Decimal("22500")

    # Refused bookings leave no purchase, no kWh and no debit behind.
    small = meter_where(power_va=450, status="ACTIVE", instalment=Decimal(0))
    assert "errors" not in await buy(gql, BUDI, small.number, 100000, "pg-cap-1")
    assert error_code(await buy(gql, BUDI, small.number, 100000, "pg-cap-2")) == "KWH_LIMIT_EXCEEDED"
    assert error_code(await buy(gql, AGUS, "14233784991", 1_000_000, "pg-poor")) == "INSUFFICIENT_BALANCE"
    report = await gql(
        "{ walletReconciliation { ok walletMismatches { customerId } usageMismatches { month } } }", as_=ADMIN.id
    )
    assert report["data"]["walletReconciliation"]["ok"] is True, report
    gone = await gql('{ purchaseByReference(clientReference: "pg-poor") { id } }', as_=AGUS)
    assert gone.get("data", {}).get("purchaseByReference") is None, gone


async def test_resolver_reads_send_no_begin_on_postgres(pg_gql: GraphQL) -> None:
    """The wallet, purchases and usage resolvers read in autocommit (Database.reads): no BEGIN/ROLLBACK
    round trips around their SELECTs, the same answers."""
    from sqlalchemy import event

    gql = pg_gql
    assert "errors" not in await buy(gql, SITI, "14233784991", 20000, "pg-reads")
    app: Any = gql.http._transport.app  # type: ignore[attr-defined]  # httpx.ASGITransport keeps its app
    reads: list[object] = []

    def seen(conn: Any, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FOR UPDATE" not in statement.upper():
            reads.append(conn.get_execution_options().get("isolation_level"))

    event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        data = await gql(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { wallet { balance "
            "entries(first: 2) { edges { node { kind } } } } purchases(first: 5) { nodes { id status } } } } }",
            {"r": [{"__typename": "Customer", "id": SITI}]},
            as_=SITI,
        )
    finally:
        event.remove(app.state.db.engine.sync_engine, "before_cursor_execute", seen)
    assert "errors" not in data, data
    assert data["data"]["_entities"][0]["purchases"]["nodes"][0]["status"] == "SUCCESS"
    assert reads and set(reads) == {"AUTOCOMMIT"}, reads
