"""TIDs per meter: unique and strictly increasing under concurrency and across restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from biller.app import create_app
from sts.meter import Outcome
from sts.tokens import parse_token

from .conftest import METER, FrozenClock, SignedClient, make_settings, simulator_for


async def test_200_concurrent_purchases_for_one_meter(biller: SignedClient) -> None:
    answers = await asyncio.gather(*(biller.purchase(f"c-{i}", tenths=10 + i) for i in range(200)))
    assert all(a["status"] == "SUCCESS" for a in answers)
    meter = simulator_for(METER, memory=50)
    decoded = sorted(
        (parse_token(a["token"], meter.decoder_key, meter.base) for a in answers), key=lambda d: d.tid
    )
    tids = [d.tid for d in decoded]
    assert len(set(tids)) == 200
    # The clock is frozen on one minute, so every TID after the first was bumped by one.
    assert tids == list(range(tids[0], tids[0] + 200))
    by_tid = {parse_token(a["token"], meter.decoder_key, meter.base).tid: a["token"] for a in answers}
    for tid in tids:
        assert meter.enter(by_tid[tid]).outcome is Outcome.ACCEPTED
    assert meter.credit_tenths == sum(10 + i for i in range(200))


async def test_concurrent_replays_of_one_reference_sell_one_token(biller: SignedClient) -> None:
    answers = await asyncio.gather(*(biller.purchase("same-ref") for _ in range(30)))
    assert len({a["token"] for a in answers}) == 1
    assert len({a["billerReference"] for a in answers}) == 1


async def _purchase_with_fresh_app(db_path: Path, clock: FrozenClock, reference: str) -> str:
    app = create_app(make_settings(db_path), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http:
            return (await SignedClient(http).purchase(reference))["token"]


async def test_tids_keep_increasing_across_a_restart(tmp_path: Path, clock: FrozenClock) -> None:
    db_path = tmp_path / "restart.db"
    meter = simulator_for(METER)
    before = [await _purchase_with_fresh_app(db_path, clock, f"r-{i}") for i in range(2)]
    # Same minute after the restart: the persisted last TID still pushes the next one up.
    after = await _purchase_with_fresh_app(db_path, clock, "r-after")
    tids = [parse_token(t, meter.decoder_key, meter.base).tid for t in (*before, after)]
    assert tids[0] < tids[1] < tids[2]
    for token in (*before, after):
        assert meter.enter(token).accepted
