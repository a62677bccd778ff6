"""The transactions subgraph wired to the REAL master subgraph and the REAL biller, in-process.

Each app runs its own lifespan (tables + demo seed) on its own SQLite file; calls between them go
through ``httpx.ASGITransport``, so the contracts (quote query, signed Biller HTTP API) are real.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from biller.app import create_app as create_biller_app
from biller.settings import DEV_VENDING_KEY, BillerSettings
from setrum_common.clock import JAKARTA
from setrum_common.demo_data import ADMIN, METERS
from sts.keys import parse_vending_key
from sts.meter import MeterSimulator, Outcome
from sts.tid import base_date_for_year
from subgraphs.master.app import create_app as create_master_app
from subgraphs.master.settings import MasterSettings
from subgraphs.transactions import biller_reconciliation
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import TransactionsSettings
from tests.fixtures.demo_meters import demo_decoder_key
from tests.service_keys import signed_as

from .conftest import BUDI, SITI, GraphQL, error_code
from .helpers import REFRESH, balance, buy, ledger, meter_where


@dataclass
class System:
    gql: GraphQL
    biller: httpx.AsyncClient
    master: httpx.AsyncClient

    async def biller_call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        content = orjson.dumps(body) if body is not None else b""
        headers = signed_as("transactions", "biller", method, path, content)
        return await self.biller.request(method, path, content=content or None, headers=headers)

    async def fault(self, mode: str, **extra: Any) -> None:
        response = await self.biller_call("PUT", "/v1/faults", {"mode": mode, **extra})
        assert response.status_code == 200, response.text


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    to_transactions = httpx.ASGITransport(app=Starlette())  # the transactions app replaces it below
    master = create_master_app(
        MasterSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/m.db", seed_demo_data=True),
        transactions_transport=to_transactions,
    )
    biller: Starlette = create_biller_app(
        BillerSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/b.db",
            seed_demo_data=True,
            timeout_fault_seconds=5,
            faults_enabled=True,
        )
    )
    app = create_app(
        TransactionsSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db",
            seed_demo_data=True,
            master_url="http://master.test/graphql",
            biller_url="http://biller.test",
            biller_timeout_s=0.5,
            pending_refresh_after_s=0,
        ),
        master_transport=httpx.ASGITransport(app=master),
        biller_transport=httpx.ASGITransport(app=biller),
    )
    to_transactions.app = app
    async with (
        master.router.lifespan_context(master),
        biller.router.lifespan_context(biller),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tx.test") as http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=biller), base_url="http://biller.test") as biller_http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=master), base_url="http://master.test") as master_http,
    ):
        yield System(GraphQL(http), biller_http, master_http)


async def test_buy_through_real_master_and_biller(system: System) -> None:
    gql = system.gql
    before = await balance(gql, SITI)
    purchase = (await buy(gql, SITI, METERS[0].number, 100000, "real-1"))["data"]["purchaseToken"]
    assert purchase["status"] == "SUCCESS"
    # docs/domain.md §Price and kWh worked example, priced by the real master.
    assert (purchase["energyValue"], purchase["ppj"], purchase["kwh"]) == ("97656.25", "2343.75", "67.5")
    assert len(purchase["token"]) == 20 and purchase["token"].isdigit()
    assert await balance(gql, SITI) == before - Decimal(purchase["totalPaid"])
    stored = (await system.biller_call("GET", f"/v1/purchases/{purchase['channelReference']}")).json()
    assert stored["token"].replace("-", "") == purchase["token"]
    again = (await buy(gql, SITI, METERS[0].number, 100000, "real-1"))["data"]["purchaseToken"]
    assert again["id"] == purchase["id"] and again["token"] == purchase["token"]


async def test_real_master_errors_pass_through(system: System) -> None:
    blocked = meter_where(status="BLOCKED")
    assert error_code(await buy(system.gql, SITI, blocked.number, 50000, "rb-1")) == "CUSTOMER_BLOCKED"
    assert error_code(await buy(system.gql, SITI, "14233784990", 50000, "rb-2")) == "WRONG_CHECK_DIGIT"
    assert error_code(await buy(system.gql, SITI, "99999999990", 50000, "rb-4")) == "WRONG_CUSTOMER_NUMBER"
    assert error_code(await buy(system.gql, SITI, METERS[0].number, 12345, "rb-3")) == "PRODUCT_UNAVAILABLE"


async def test_real_biller_pending_then_success(system: System) -> None:
    await system.fault("pending_then_success", pendingPolls=2)
    purchase = (await buy(system.gql, BUDI, METERS[1].number, 200000, "rp-1"))["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING"
    await system.biller_call("DELETE", "/v1/faults")
    for _ in range(3):
        refreshed = (await system.gql(REFRESH, {"id": purchase["id"]}, as_=BUDI))["data"]["refreshPurchase"]
        if refreshed["status"] != "PENDING":
            break
    assert refreshed["status"] == "SUCCESS" and len(refreshed["token"]) == 20


async def test_real_biller_failure_and_maintenance_refund(system: System) -> None:
    gql = system.gql
    before = await balance(gql, BUDI)
    await system.fault("fail")
    failed = (await buy(gql, BUDI, METERS[1].number, 50000, "rf-1"))["data"]["purchaseToken"]
    assert failed["status"] == "FAILED" and failed["failureCode"] == "BILLER_FAILED"
    await system.fault("maintenance")
    assert error_code(await buy(gql, BUDI, METERS[1].number, 50000, "rf-2")) == "BILLER_MAINTENANCE"
    assert await balance(gql, BUDI) == before
    kinds = [e["kind"] for e in await ledger(gql, BUDI)][:4]
    assert sorted(kinds) == ["PURCHASE_DEBIT", "PURCHASE_DEBIT", "REFUND_CREDIT", "REFUND_CREDIT"]


async def test_real_biller_timeout_stays_pending_then_resolves_to_the_stored_token(system: System) -> None:
    await system.fault("timeout")
    purchase = (await buy(system.gql, SITI, METERS[0].number, 50000, "rt-1"))["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING"
    await system.biller_call("DELETE", "/v1/faults")
    done = (await system.gql(REFRESH, {"id": purchase["id"]}, as_=SITI))["data"]["refreshPurchase"]
    assert done["status"] == "SUCCESS"
    stored = (await system.biller_call("GET", f"/v1/purchases/{purchase['channelReference']}")).json()
    assert stored["token"].replace("-", "") == done["token"]


# --- the domain rules across the real master, transactions and biller ------------------------------

QUOTE = """query($m: String!, $d: Decimal!) { quote(meterNumber: $m, denomination: $d) {
  kwh instalment instalmentDebtLeft monthlyKwhLimit monthlyKwhRemaining keyChange { reason tokensBeforeCredit instructions }
} }"""
METER_1993 = next(m for m in METERS if m.sts_base_date == 1993 and m.status == "ACTIVE")


async def _quote(system: System, meter: str, denomination: str) -> dict[str, Any]:
    response = await system.master.post("/graphql", json={"query": QUOTE, "variables": {"m": meter, "d": denomination}})
    return response.json()


async def test_key_change_purchase_end_to_end(system: System) -> None:
    """A 1993-base meter after the TID rollover: the quote announces the key change flow, the purchase
    carries the pair and the token, and the meter takes them in that order."""
    quote = (await _quote(system, METER_1993.number, "100000"))["data"]["quote"]
    assert quote["keyChange"]["tokensBeforeCredit"] == 2
    assert quote["keyChange"]["reason"].startswith("base date 1993 ran out of token identifiers")
    bought = (await buy(system.gql, SITI, METER_1993.number, 100000, "kct-1"))["data"]["purchaseToken"]
    assert bought["status"] == "SUCCESS" and len(bought["keyChangeTokens"]) == 2
    assert bought["tokenInstructions"].startswith("Enter the 1st key change token, then the 2nd, then the credit")
    # The meter, from its own register entry and the development vending key (independently of the biller).
    meter = MeterSimulator(
        demo_decoder_key(METER_1993.number, parse_vending_key(DEV_VENDING_KEY)), base=base_date_for_year(1993)
    )
    assert meter.enter(bought["formattedToken"]).outcome is Outcome.CRC_ERROR  # not before the pair
    first, second = bought["keyChangeTokens"]
    assert meter.enter(first).accepted and meter.enter(second).key_changed
    assert meter.enter(bought["formattedToken"]).credited_kwh == Decimal(bought["kwh"])
    # The key is changed for good: the quote no longer announces it, the next token needs no pair.
    assert (await _quote(system, METER_1993.number, "100000"))["data"]["quote"]["keyChange"] is None
    again = (await buy(system.gql, SITI, METER_1993.number, 20000, "kct-2"))["data"]["purchaseToken"]
    assert again["keyChangeTokens"] is None and meter.enter(again["formattedToken"]).accepted
    # A reprint gives the three tokens again, in order.
    reprint = await system.gql(
        "mutation($id: ID!) { reprintToken(id: $id) { keyChangeTokens formattedToken } }",
        {"id": bought["id"]},
        as_=SITI,
    )
    assert reprint["data"]["reprintToken"]["keyChangeTokens"] == bought["keyChangeTokens"]


async def test_quote_refuses_what_the_purchase_refuses(system: System) -> None:
    small = meter_where(power_va=450, status="ACTIVE", instalment=Decimal(0))  # R1/450 VA: 324 kWh a month
    q = (await _quote(system, small.number, "50000"))["data"]["quote"]
    assert (q["monthlyKwhLimit"], q["monthlyKwhRemaining"]) == ("324.0", "324.0")
    first = (await buy(system.gql, BUDI, small.number, 100000, "cap-1"))["data"]["purchaseToken"]
    left = Decimal("324.0") - Decimal(first["kwh"])
    assert (await _quote(system, small.number, "20000"))["data"]["quote"]["monthlyKwhRemaining"] == str(left)
    # Another Rp 100,000 carries as much again: more than is left. Quote and purchase refuse alike.
    quoted = await _quote(system, small.number, "100000")
    assert quoted["errors"][0]["extensions"]["code"] == "KWH_LIMIT_EXCEEDED"
    assert error_code(await buy(system.gql, BUDI, small.number, 100000, "cap-2")) == "KWH_LIMIT_EXCEEDED"
    for amount, code in {"1e5": "AMOUNT_NOT_DIGITS", "-20000": "AMOUNT_NOT_DIGITS", "0": "AMOUNT_OUT_OF_RANGE",
                         "20000.5": "AMOUNT_NOT_WHOLE_RUPIAH"}.items():  # fmt: skip
        assert (await _quote(system, METERS[0].number, amount))["errors"][0]["extensions"]["code"] == code
        assert error_code(await buy(system.gql, BUDI, METERS[0].number, amount, f"bad-{amount}")) == code


async def test_the_daily_reconciliation_against_the_real_biller(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The biller's day read one sale per page: each page is its own signed request with a query string.
    monkeypatch.setattr(biller_reconciliation, "SALES_PAGE_SIZE", 1)
    gql = system.gql
    await buy(gql, SITI, METERS[0].number, 20000, "set-1")
    await system.fault("fail")
    await buy(gql, SITI, METERS[0].number, 50000, "set-2")
    await system.biller_call("DELETE", "/v1/faults")
    # A sale the biller made under a reference we never sent.
    # (Rp 20,000 with no deductions buys 13.8 kWh at R1 / 1,300 VA: the biller prices it itself.)
    stray = {"reference": "STRANGER", "meterNumber": METERS[0].number, "kwhTenths": 138, "amount": "20000"}
    assert (await system.biller_call("POST", "/v1/purchases", stray)).status_code == 200
    day = jakarta_month_day()
    report = (await gql(RECONCILE, {"date": day}, as_=ADMIN.id))["data"]["billerReconciliation"]
    lines = {line["status"]: line for line in report["lines"]}
    assert (lines["SUCCESS"]["count"], lines["SUCCESS"]["nominal"]) == (1, "20000.00")
    assert (lines["SUCCESS"]["billerCount"], lines["SUCCESS"]["billerNominal"]) == (2, "40000.00")
    assert (lines["FAILED"]["count"], lines["FAILED"]["billerCount"]) == (1, 1)
    assert (report["ok"], report["truncated"]) == (False, False)
    assert [(d["channelReference"], d["problem"]) for d in report["differences"]] == [("STRANGER", "MISSING_HERE")]
    by_day = (await gql(SALES_BY_DAY, {"from": day, "to": day}, as_=ADMIN.id))["data"]["salesByDay"]
    assert {(r["status"], r["count"], r["nominal"]) for r in by_day} == {
        ("SUCCESS", 1, "20000.00"),
        ("FAILED", 1, "50000.00"),
    }
    assert error_code(await gql(RECONCILE, {"date": day}, as_=SITI)) == "FORBIDDEN"


async def test_the_daily_reconciliation_lists_every_kind_of_difference(system: System, tmp_path: Path) -> None:
    gql = system.gql
    refs = {}
    for name in ("token", "amount", "status", "renamed", "yesterday"):
        bought = (await buy(gql, SITI, METERS[0].number, 20000, f"rec-{name}"))["data"]["purchaseToken"]
        assert bought["status"] == "SUCCESS"
        refs[name] = bought["channelReference"]
    day = jakarta_month_day()
    clean = (await gql(RECONCILE, {"date": day}, as_=ADMIN.id))["data"]["billerReconciliation"]
    assert (clean["ok"], clean["differences"]) == (True, [])
    # Our books drift from the biller's: a token, an amount, a status, a reference; and one purchase
    # recorded a day earlier here (near midnight) still matches the biller's by reference.
    with sqlite3.connect(tmp_path / "t.db") as db:
        db.execute(
            "UPDATE tx_purchase SET token = '00000000000000000000' WHERE channel_reference = ?", (refs["token"],)
        )
        db.execute(
            "UPDATE tx_purchase SET nominal = nominal * 5 / 2 WHERE channel_reference = ?", (refs["amount"],)
        )  # Rp 50,000
        db.execute("UPDATE tx_purchase SET status = 'REVIEW' WHERE channel_reference = ?", (refs["status"],))
        db.execute("UPDATE tx_purchase SET channel_reference = 'GHOST' WHERE channel_reference = ?", (refs["renamed"],))
        (made,) = db.execute(
            "SELECT created_at FROM tx_purchase WHERE channel_reference = ?", (refs["yesterday"],)
        ).fetchone()
        earlier = str(datetime.fromisoformat(made) - timedelta(days=1))
        db.execute("UPDATE tx_purchase SET created_at = ? WHERE channel_reference = ?", (earlier, refs["yesterday"]))
    report = (await gql(RECONCILE, {"date": day}, as_=ADMIN.id))["data"]["billerReconciliation"]
    assert report["ok"] is False
    assert sorted((d["channelReference"], d["problem"]) for d in report["differences"]) == sorted([
        (refs["token"], "TOKEN_MISMATCH"), (refs["amount"], "AMOUNT_MISMATCH"), (refs["status"], "STATUS_MISMATCH"),
        (refs["renamed"], "MISSING_HERE"), ("GHOST", "MISSING_AT_BILLER"),
    ])  # fmt: skip
    lines = {line["status"]: line for line in report["lines"]}
    assert (lines["SUCCESS"]["count"], lines["SUCCESS"]["nominal"]) == (3, "90000.00")  # token, amount, GHOST
    assert (lines["SUCCESS"]["billerCount"], lines["SUCCESS"]["billerNominal"]) == (5, "100000.00")
    assert (lines["REVIEW"]["count"], lines["REVIEW"]["billerCount"]) == (1, 0)
    bad = await gql(RECONCILE, {"date": "1900-01-01"}, as_=ADMIN.id)
    assert error_code(bad) == "BAD_USER_INPUT"


RECONCILE = """query($date: Date!) { billerReconciliation(date: $date) {
  date ok truncated lines { status count nominal billerCount billerNominal } differences { channelReference problem }
} }"""
SALES_BY_DAY = "query($from: String!, $to: String!) { salesByDay(from: $from, to: $to) { day status count nominal } }"


def jakarta_month_day() -> str:
    return datetime.now(JAKARTA).date().isoformat()
