"""Services apply ``schema_mode`` at start-up and report the schema on ``/ready``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from starlette.applications import Starlette

from biller.app import create_app as create_biller
from biller.settings import BillerSettings
from payments.app import create_app as create_payments
from payments.settings import PaymentsSettings
from setrum_common.db import Database
from setrum_common.migrations import MigrationError, Migrations, main
from subgraphs.users.app import create_app as create_users
from subgraphs.users.settings import UsersSettings
from tests.service_keys import production_key_env

STRONG = "x" * 40


def _users(url: str, mode: str) -> Starlette:
    settings = UsersSettings(database_url=url, schema_mode=mode, password_time_cost=1, password_memory_kib=8)
    return create_users(settings)


def _biller(url: str, mode: str) -> Starlette:
    return create_biller(BillerSettings(database_url=url, schema_mode=mode))


def _payments(url: str, mode: str) -> Starlette:
    return create_payments(PaymentsSettings(database_url=url, schema_mode=mode))


APPS: dict[str, tuple[Callable[[str, str], Starlette], str]] = {
    "users": (_users, "subgraphs.users"),
    "biller": (_biller, "biller"),
    "payments": (_payments, "payments"),
}
SETTINGS: dict[str, Any] = {"users": UsersSettings, "biller": BillerSettings, "payments": PaymentsSettings}
pytestmark = pytest.mark.parametrize("service", list(APPS))


async def _ready(app: Starlette) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        return await client.get("/ready")


async def test_check_mode_refuses_to_start_on_an_empty_database(service: str, database_url: str) -> None:
    factory, _ = APPS[service]
    app = factory(database_url, "check")
    with pytest.raises(MigrationError, match="not at the latest migration"):
        async with app.router.lifespan_context(app):
            pass


async def test_migrate_mode_starts_ready_and_check_mode_then_accepts(service: str, database_url: str) -> None:
    factory, package = APPS[service]
    app = factory(database_url, "migrate")
    async with app.router.lifespan_context(app):
        response = await _ready(app)
        assert response.status_code == 200
        assert response.json() == {"status": "READY", "database": True, "migrations": "current"}

        # Someone else migrates the database past this code: the replica stops being ready.
        version_table = Migrations.of_package(package).version_table
        db: Database = app.state.db
        async with db.engine.begin() as conn:
            await conn.execute(text(f"UPDATE {version_table} SET version_num = 'abcdef12'"))
        response = await _ready(app)
        assert response.status_code == 503
        assert response.json() == {"status": "NOT_READY", "database": True, "migrations": "unknown"}
        async with db.engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM {version_table}"))
        response = await _ready(app)
        assert (response.status_code, response.json()["migrations"]) == (503, "empty")

    again = factory(database_url, "migrate")  # restores the version row
    async with again.router.lifespan_context(again):
        pass
    checked = factory(database_url, "check")
    async with checked.router.lifespan_context(checked):
        assert (await _ready(checked)).json()["migrations"] == "current"


async def test_create_mode_is_for_tests_only(service: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    factory, _ = APPS[service]
    app = factory(database_url, "create")
    async with app.router.lifespan_context(app):
        response = await _ready(app)
        assert response.status_code == 200 and response.json()["migrations"] == "not used"

    monkeypatch.setenv("SETRUM_JWT_SECRET", STRONG + "SETRUM_JWT_SECRET")
    for name, value in production_key_env(service).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SETRUM_PAYMENTS_SECRET", STRONG + "SETRUM_PAYMENTS_SECRET")
    monkeypatch.setenv("SETRUM_STS_VENDING_KEY", "0123456789ABCDEF")
    monkeypatch.setenv("SETRUM_ENV", "production")
    settings_class: Any = SETTINGS[service]
    with pytest.raises(ValidationError, match="schema_mode migrate or check"):
        settings_class(schema_mode="create")
    assert settings_class().schema_mode == "migrate"


async def test_cli_upgrades_and_checks(service: str, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, package = APPS[service]
    assert await _to_thread(main, [package, "check", "--url", database_url]) == 1
    assert "database empty" in capsys.readouterr().out
    assert await _to_thread(main, [package, "upgrade", "--url", database_url]) == 0
    assert await _to_thread(main, [package, "check", "--url", database_url]) == 0


async def _to_thread(fn: Callable[..., int], *args: Any) -> int:
    # The CLI runs its own event loop.
    import asyncio

    return await asyncio.to_thread(fn, *args)
