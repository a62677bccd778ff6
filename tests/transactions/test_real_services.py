"""The transactions subgraph wired to the REAL master subgraph and the REAL biller, in-process.

Each app runs its own lifespan (tables + demo seed) on its own SQLite file; calls between them go
through ``httpx.ASGITransport``, so the contracts (quote query, signed Biller HTTP API) are real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from biller.app import create_app as create_biller_app
from biller.settings import BillerSettings
from setrum_common.demo_data import METERS
from setrum_common.settings import DEV_BILLER_SECRET
from setrum_common.signing import SIGNATURE_HEADER, sign_request
from subgraphs.master.app import create_app as create_master_app
from subgraphs.master.settings import Settings as MasterSettings
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import Settings

from .conftest import BUDI, SITI, GraphQL, error_code
from .helpers import REFRESH, balance, buy, ledger, meter_where


@dataclass
class System:
    gql: GraphQL
    biller: httpx.AsyncClient

    async def biller_call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        content = orjson.dumps(body) if body is not None else b""
        headers = {SIGNATURE_HEADER: sign_request(DEV_BILLER_SECRET, method, path, content)}
        return await self.biller.request(method, path, content=content or None, headers=headers)

    async def fault(self, mode: str, **extra: Any) -> None:
        response = await self.biller_call("PUT", "/v1/faults", {"mode": mode, **extra})
        assert response.status_code == 200, response.text


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    master = create_master_app(MasterSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/m.db", seed_demo_data=True))
    biller: Starlette = create_biller_app(
        BillerSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/b.db", seed_demo_data=True, timeout_fault_seconds=5)
    )
    app = create_app(
        Settings(
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
    async with (
        master.router.lifespan_context(master),
        biller.router.lifespan_context(biller),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tx.test") as http,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=biller), base_url="http://biller.test") as biller_http,
    ):
        yield System(GraphQL(http), biller_http)


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
    assert error_code(await buy(system.gql, SITI, "14233784990", 50000, "rb-2")) == "WRONG_CUSTOMER_NUMBER"
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
