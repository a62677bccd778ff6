"""TIDs per meter: unique and strictly increasing under concurrency and across restarts."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
from sqlalchemy import update

from biller.app import create_app
from biller.lookup import lookup_meter
from biller.models import BillerMeter
from setrum_common.db import Database
from sts.meter import Outcome
from sts.tid import MAX_TID
from sts.tokens import parse_token

from .conftest import METER, FrozenClock, SignedClient, make_settings, serve, simulator_for


async def test_200_concurrent_purchases_for_one_meter(biller: SignedClient) -> None:
    answers = await asyncio.gather(*(biller.purchase(f"c-{i}", tenths=10 + i) for i in range(200)))
    assert all(a["status"] == "SUCCESS" for a in answers)
    meter = simulator_for(METER, memory=50)
    decoded = sorted((parse_token(a["token"], meter.decoder_key, meter.base) for a in answers), key=lambda d: d.tid)
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
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http,
    ):
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


def _tid(answer: dict) -> int:
    meter = simulator_for(METER)
    return parse_token(answer["token"], meter.decoder_key, meter.base).tid


async def test_replays_answer_the_first_token(biller: SignedClient) -> None:
    # A replay first tries to sell (taking a TID), then meets the stored reference. On SQLite its
    # transaction rolls the TID back; on PostgreSQL the TID was committed alone and stays a gap.
    first = await biller.purchase("once")
    replays = await asyncio.gather(*(biller.purchase("once") for _ in range(5)))
    assert all(r == first for r in replays)
    assert await biller.purchase("once") == first
    after = await biller.purchase("after-replays")
    db: Database = biller.app.state.db
    spent_by_replays = 0 if db.is_sqlite else 6  # frozen minute: one TID per sale tried
    assert _tid(after) == _tid(first) + 1 + spent_by_replays
    meter = simulator_for(METER)  # the gap costs the meter nothing: both tokens are accepted in turn
    assert meter.enter(first["token"]).accepted and meter.enter(after["token"]).accepted


async def test_a_meter_out_of_tids_needs_a_key_change(biller: SignedClient) -> None:
    db: Database = biller.app.state.db
    async with db.transaction() as session:
        await session.execute(update(BillerMeter).where(BillerMeter.number == METER).values(last_tid=MAX_TID - 1))
    last = await biller.purchase("last-tid")
    assert last["status"] == "SUCCESS" and _tid(last) == MAX_TID
    spent = await biller.purchase("no-tid-left")
    assert (spent["status"], spent["code"], spent["token"]) == ("FAILED", "KEY_CHANGE_REQUIRED", None)
    management = await biller.request(
        "POST",
        "/v1/management-tokens",
        {"meterNumber": METER, "kind": "CLEAR_TAMPER", "value": None, "reference": uuid.uuid4().hex},
    )
    assert (management.status_code, management.json()["code"]) == (409, "KEY_CHANGE_REQUIRED")
    entry = await lookup_meter(db, METER)
    assert entry is not None and entry.last_tid == MAX_TID


async def test_two_billers_on_one_database_share_the_tid_sequence(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    """Two replicas (two engines, two in-process locks) on one database: one TID sequence per
    meter, one token per reference (row locks on PostgreSQL, SQLite's write lock on a file)."""
    settings = make_settings(tmp_path / "unused.db", database_url=database_url)
    async with serve(settings, clock) as one, serve(settings, clock) as two:
        answers = await asyncio.gather(*(client.purchase(f"two-{i}") for i, client in enumerate([one, two] * 20)))
        replays = await asyncio.gather(*(client.purchase("two-same") for client in [one, two] * 5))
    tids = sorted(_tid(a) for a in answers)
    assert tids == list(range(tids[0], tids[0] + 40))  # frozen minute: consecutive, none twice
    assert len({r["token"] for r in replays}) == 1
    assert len({r["billerReference"] for r in replays}) == 1
    if database_url.startswith("postgresql"):
        # A fresh sale takes its TID before its row: concurrent first sales of one reference may each take one
        # (gaps, which meters accept), and one row wins.
        assert tids[-1] < _tid(replays[0]) <= tids[-1] + len(replays)
    else:
        assert _tid(replays[0]) == tids[-1] + 1
