"""Fresh, empty databases for migration tests: SQLite always, PostgreSQL when
``SETRUM_TEST_POSTGRES_URL`` names a server (one new database per test, dropped afterwards)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData

from setrum_common.db import Database
from setrum_common.migrations import Migrations
from tests.postgres import POSTGRES_URL, scratch_database


@dataclass(frozen=True)
class Service:
    package: str
    models: str  # "module:DeclarativeBase"

    @property
    def migrations(self) -> Migrations:
        return Migrations.of_package(self.package)

    @property
    def metadata(self) -> MetaData:
        module, _, base = self.models.partition(":")
        return getattr(importlib.import_module(module), base).metadata


# Every service that owns a database. A service missing here has no migration test, so the
# deploy test checks this list against the packages that ship a migrations/ folder.
SERVICES = [
    Service("subgraphs.users", "subgraphs.users.models:UsersBase"),
    Service("subgraphs.master", "subgraphs.master.models:MasterBase"),
    Service("subgraphs.transactions", "subgraphs.transactions.models:TransactionsBase"),
    Service("biller", "biller.models:BillerBase"),
    Service("payments", "payments.models:PaymentsBase"),
]
SERVICES = [s for s in SERVICES if (s.migrations.directory / "env.py").is_file()]


def _backends() -> list[Any]:
    return [
        "sqlite",
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="SETRUM_TEST_POSTGRES_URL not set"),
        ),
    ]


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    async with scratch_database("setrum_mig") as url:
        yield url


@pytest.fixture
async def open_db(database_url: str) -> AsyncIterator[Callable[[], Database]]:
    """Opens engines on the test database (each its own pool) and disposes them at the end."""
    opened: list[Database] = []

    def _open() -> Database:
        db = Database(database_url)
        opened.append(db)
        return db

    yield _open
    await asyncio.gather(*(db.dispose() for db in opened))
