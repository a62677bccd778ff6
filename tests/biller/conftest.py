from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_UP, Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr

from biller.app import create_app
from biller.settings import BillerSettings
from setrum_common import demo_data
from setrum_common.pricing import ppj_rate_for, price_purchase
from setrum_common.trust.service_keys import ServiceKeyring, load_keyring
from setrum_common.trust.service_tokens import service_headers
from sts.meter import MeterSimulator
from sts.tid import base_date_for_year
from tests.fixtures.demo_meters import demo_decoder_key
from tests.postgres import requires_postgres, scratch_database

# A test vending key (not the development default), so we can look for it in every output.
TEST_VENDING_KEY = "3A7C19E0B45D28F6"
METER = demo_data.METERS[0].number  # 14233784991, base date 2014
OTHER_METER = demo_data.METERS[1].number
BLOCKED_METER = next(m.number for m in demo_data.METERS if m.status == "BLOCKED")
METER_1993 = next(m.number for m in demo_data.METERS if m.sts_base_date == 1993 and m.status == "ACTIVE")


class FrozenClock:
    """A settable UTC clock: lets tests pin the minute (so TIDs must be bumped) or jump in time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_settings(db_path: Path, **overrides: Any) -> BillerSettings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{db_path}",
        "vending_key": SecretStr(TEST_VENDING_KEY),
        "environment": "development",
        "timeout_fault_seconds": 30.0,
        "faults_enabled": True,
    }
    values.update(overrides)
    return BillerSettings(**values)


def sale_body(reference: str, meter: str = METER, tenths: int | None = None, amount: str | None = None) -> dict:
    """A purchase request as transactions sends it: with ``amount`` alone (default Rp 100,000), priced
    like master's quote (the demo tariff and region PPJ, whose deductions go along); with ``tenths``
    alone, the exact amount that buys them with no deductions; with both, sent as given."""
    demo = next((m for m in demo_data.METERS if m.number == meter), demo_data.METERS[0])
    tariff = next(
        t for t in demo_data.TARIFFS
        if t.code == demo.tariff_code and t.min_va <= demo.power_va and (t.max_va is None or demo.power_va <= t.max_va)
    )  # fmt: skip
    body: dict[str, Any] = {"reference": reference, "meterNumber": meter}
    if tenths is not None and amount is None:
        assert tariff.ppn_rate == 0, "an exact amount for a taxed tariff: give the amount instead"
        exact = (tariff.rate * tenths / 10).quantize(Decimal("0.01"), rounding=ROUND_UP)
        return {**body, "kwhTenths": tenths, "amount": str(exact)}
    if tenths is not None:
        return {**body, "kwhTenths": tenths, "amount": amount}
    amount = amount or "100000"
    rules = [
        SimpleNamespace(rate=r.rate, classes=r.tariff_classes, min_va=r.min_va, max_va=r.max_va, position=i)
        for i, r in enumerate(demo_data.PPJ_RULES) if r.region == demo.region
    ]  # fmt: skip
    price = price_purchase(
        nominal=Decimal(amount), tariff_rate=tariff.rate, ppn_rate=tariff.ppn_rate,
        ppj_rate=ppj_rate_for(rules, demo.tariff_code, demo.power_va),
    )  # fmt: skip
    return {**body, "kwhTenths": int(price.kwh * 10), "amount": amount, "ppj": str(price.ppj), "ppn": str(price.ppn)}


def simulator_for(number: str, *, memory: int = 50) -> MeterSimulator:
    """A meter built independently of the biller: demo register values + the test vending key."""
    demo = next(m for m in demo_data.METERS if m.number == number)
    key = demo_decoder_key(number, bytes.fromhex(TEST_VENDING_KEY))
    return MeterSimulator(key, base=base_date_for_year(demo.sts_base_date), memory=memory)


@dataclass
class SignedClient:
    """An httpx client that signs every request like the transactions subgraph does (its development key)."""

    http: httpx.AsyncClient
    keyring: ServiceKeyring = field(default_factory=lambda: load_keyring("transactions", None, None))
    app: Any = None  # the biller app behind ``http`` (for its database), when the test made it

    async def request(self, method: str, path: str, body: Any = None, *, sign: bool = True) -> httpx.Response:
        content = b"" if body is None else orjson.dumps(body)
        headers = {"content-type": "application/json"}
        if sign:
            headers.update(service_headers(self.keyring, "biller", method, path, content))
        return await self.http.request(method, path, content=content, headers=headers)

    async def purchase(
        self, reference: str, meter: str = METER, tenths: int | None = None, amount: str | None = None
    ) -> dict:
        body = sale_body(reference, meter, tenths, amount)
        response = await self.request("POST", "/v1/purchases", body)
        assert response.status_code == 200, response.text
        return response.json()

    async def status(self, reference: str) -> httpx.Response:
        return await self.request("GET", f"/v1/purchases/{reference}")

    async def fault(self, mode: str, **extra: Any) -> None:
        response = await self.request("PUT", "/v1/faults", {"mode": mode, **extra})
        assert response.status_code == 200, response.text


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 1, 8, 0, 30, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> BillerSettings:
    return make_settings(tmp_path / "biller.db")


@asynccontextmanager
async def serve(settings: BillerSettings, clock: FrozenClock) -> AsyncIterator[SignedClient]:
    """A biller app with its lifespan running, behind a signing client."""
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://biller") as http:
            yield SignedClient(http, app=app)


# Every test on the `biller` fixture runs on SQLite and, when SETRUM_TEST_POSTGRES_URL is set, again
# on a fresh PostgreSQL database: the purchase statements differ per dialect (ON CONFLICT, row locks).
BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, requires_postgres])]


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty biller database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'biller.db'}"
        return
    async with scratch_database("setrum_biller") as url:
        yield url


@pytest.fixture
async def biller(database_url: str, settings: BillerSettings, clock: FrozenClock) -> AsyncIterator[SignedClient]:
    async with serve(settings.model_copy(update={"database_url": database_url}), clock) as client:
        yield client
