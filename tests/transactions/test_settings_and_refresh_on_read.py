from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from setrum_common.demo_data import METERS
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import TransactionsSettings
from tests.service_keys import production_key_env

from .conftest import SITI, GraphQL
from .fakes import FakeBiller, FakeMaster
from .helpers import buy


def test_defaults_and_production_refuses_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = TransactionsSettings()
    assert (settings.port, settings.master_url, settings.biller_url) == (
        4003,
        "http://127.0.0.1:4002/graphql",
        "http://127.0.0.1:4010",
    )
    assert settings.biller_timeout_s == 10
    monkeypatch.setenv("TRANSACTIONS_BILLER_TIMEOUT_S", "2.5")
    assert TransactionsSettings().biller_timeout_s == 2.5
    monkeypatch.setenv("SETRUM_ENV", "production")
    with pytest.raises(ValidationError):
        TransactionsSettings()  # the JWT secret is still the development one
    monkeypatch.setenv("SETRUM_JWT_SECRET", "j" * 40)
    with pytest.raises(ValidationError, match="SETRUM_PAYMENTS_SECRET"):
        TransactionsSettings()  # the development payment provider secret is refused in production
    monkeypatch.setenv("SETRUM_PAYMENTS_SECRET", "p" * 40)
    with pytest.raises(ValidationError, match="SETRUM_SERVICE_KEY"):
        TransactionsSettings()  # the development service key (derived from the name) is refused
    for name, value in production_key_env("transactions").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="SETRUM_USERS_URL"):
        TransactionsSettings()  # production checks every token's subject with users
    monkeypatch.setenv("SETRUM_USERS_URL", "http://users:4001")
    assert TransactionsSettings().is_production
    monkeypatch.setenv(
        "SETRUM_SERVICE_PUBLIC_KEYS", production_key_env("transactions")["SETRUM_SERVICE_PUBLIC_KEYS"][:-8] + '"}'
    )
    with pytest.raises(ValidationError):
        TransactionsSettings()  # a malformed public key is refused


async def test_reading_a_stale_pending_purchase_re_asks_the_biller(tmp_path: Path) -> None:
    master, biller = FakeMaster(), FakeBiller(mode="pending_then_success", pending_polls=1)
    app = create_app(
        TransactionsSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db",
            seed_demo_data=True,
            pending_refresh_after_s=0.01,
        ),
        master_transport=httpx.MockTransport(master.handle),
        biller_transport=httpx.MockTransport(biller.handle),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        gql = GraphQL(http)
        purchase = (await buy(gql, SITI, METERS[0].number, 20000, "stale-1"))["data"]["purchaseToken"]
        assert purchase["status"] == "PENDING"
        await asyncio.sleep(0.05)
        read = await gql("query($id: ID!) { purchase(id: $id) { status token } }", {"id": purchase["id"]}, as_=SITI)
        assert read["data"]["purchase"]["status"] == "SUCCESS" and read["data"]["purchase"]["token"]
        assert biller.posts == 1 and biller.gets == 1


def test_overload_tolerance_is_wider_on_postgresql_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert TransactionsSettings().limiter_tolerance == 2.0  # SQLite: writers queue on one lock anyway
    monkeypatch.setenv("TRANSACTIONS_DATABASE_URL", "postgresql+asyncpg://u@db/transactions")
    assert TransactionsSettings().limiter_tolerance == 3.0
    monkeypatch.setenv("TRANSACTIONS_OVERLOAD_TOLERANCE", "2.5")
    assert TransactionsSettings().limiter_tolerance == 2.5
    monkeypatch.setenv("TRANSACTIONS_OVERLOAD_TOLERANCE", "1")
    with pytest.raises(ValidationError):
        TransactionsSettings()  # at or under 1 the limit would shrink at its own baseline
