"""The same TID guarantees on PostgreSQL (row lock ``SELECT … FOR UPDATE``).

Runs only when ``SETRUM_TEST_POSTGRES_URL`` names a PostgreSQL database
(``postgresql+asyncpg://user:pass@host/db``); each test migrates a fresh database there.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from biller.app import create_app
from sts.tokens import parse_token
from tests.postgres import requires_postgres, scratch_database

from .conftest import METER, FrozenClock, SignedClient, make_settings, simulator_for

pytestmark = [pytest.mark.postgres, requires_postgres]


async def test_concurrent_purchases_on_postgres(tmp_path: Path, clock: FrozenClock) -> None:
    prefix = uuid.uuid4().hex[:8]
    async with scratch_database("setrum_biller") as url:
        app = create_app(make_settings(tmp_path / "unused.db", database_url=url), clock=clock)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http,
        ):
            client = SignedClient(http)
            answers = await asyncio.gather(*(client.purchase(f"{prefix}-{i}") for i in range(50)))
            replays = await asyncio.gather(*(client.purchase(f"{prefix}-same") for _ in range(10)))
    meter = simulator_for(METER)
    tids = sorted(parse_token(a["token"], meter.decoder_key, meter.base).tid for a in answers)
    assert len(set(tids)) == 50
    assert len({r["token"] for r in replays}) == 1
    by_tid = {parse_token(a["token"], meter.decoder_key, meter.base).tid: a["token"] for a in answers}
    assert all(meter.enter(by_tid[t]).accepted for t in tids)
