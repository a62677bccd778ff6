"""The same TID guarantees on PostgreSQL (row lock ``SELECT … FOR UPDATE``).

Runs only when ``SETRUM_TEST_POSTGRES_URL`` names a PostgreSQL database
(``postgresql+asyncpg://user:pass@host/db``); the biller's tables are created there.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import httpx
import pytest

from biller.app import create_app
from sts.tokens import parse_token

from .conftest import METER, FrozenClock, SignedClient, make_settings, simulator_for

pytestmark = pytest.mark.postgres

POSTGRES_URL = os.environ.get("SETRUM_TEST_POSTGRES_URL")


@pytest.mark.skipif(not POSTGRES_URL, reason="set SETRUM_TEST_POSTGRES_URL to run against PostgreSQL")
async def test_concurrent_purchases_on_postgres(tmp_path: Path, clock: FrozenClock) -> None:
    settings = make_settings(tmp_path / "unused.db", database_url=POSTGRES_URL)
    app = create_app(settings, clock=clock)
    prefix = uuid.uuid4().hex[:8]
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http:
            client = SignedClient(http)
            answers = await asyncio.gather(*(client.purchase(f"{prefix}-{i}") for i in range(50)))
            replays = await asyncio.gather(*(client.purchase(f"{prefix}-same") for _ in range(10)))
    meter = simulator_for(METER)
    tids = sorted(parse_token(a["token"], meter.decoder_key, meter.base).tid for a in answers)
    assert len(set(tids)) == 50
    assert len({r["token"] for r in replays}) == 1
    by_tid = {parse_token(a["token"], meter.decoder_key, meter.base).tid: a["token"] for a in answers}
    assert all(meter.enter(by_tid[t]).accepted for t in tids)
