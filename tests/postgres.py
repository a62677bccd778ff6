"""Throw-away PostgreSQL databases for tests (when ``SETRUM_TEST_POSTGRES_URL`` names a server).

Every test that needs PostgreSQL gets a new, empty database and drops it afterwards, so tests
never see each other's tables or migration history.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.engine import make_url

__all__ = ["POSTGRES_URL", "requires_postgres", "create_databases", "drop_databases", "scratch_database"]

POSTGRES_URL = os.environ.get("SETRUM_TEST_POSTGRES_URL")

requires_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="set SETRUM_TEST_POSTGRES_URL to run against PostgreSQL"
)


def _admin_dsn() -> str:
    assert POSTGRES_URL, "SETRUM_TEST_POSTGRES_URL is not set"
    return make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)


def _url(name: str) -> str:
    assert POSTGRES_URL
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def _execute(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_admin_dsn())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def create_databases(prefix: str, count: int = 1) -> list[str]:
    """Create ``count`` empty databases; returns their SQLAlchemy URLs."""
    names = [f"{prefix}_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    await _execute(*(f'CREATE DATABASE "{name}"' for name in names))
    return [_url(name) for name in names]


async def drop_databases(urls: list[str]) -> None:
    names = [make_url(url).database for url in urls]
    await _execute(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


@asynccontextmanager
async def scratch_database(prefix: str = "setrum_test") -> AsyncIterator[str]:
    """A new, empty database for the duration of the block."""
    if not POSTGRES_URL:
        pytest.skip("set SETRUM_TEST_POSTGRES_URL to run against PostgreSQL")
    (url,) = await create_databases(prefix)
    try:
        yield url
    finally:
        await drop_databases([url])
