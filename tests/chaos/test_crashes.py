"""A burst of purchases with a crash or a hang in the middle of it; afterwards everything settles on its own."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from setrum_common.demo_data import ADMIN
from setrum_common.settings import DEV_BILLER_SECRET
from setrum_common.signing import SIGNATURE_HEADER, sign_request

from .conftest import BILLER_RECONCILIATION, JAKARTA_OFFSET, Burst, Chaos, _purchase

BURST = 30


async def _burst_with(chaos: Chaos, meter_index: int, action_after_s: float, action: object) -> Burst:
    task = asyncio.create_task(chaos.burst(BURST, meter_index))
    await asyncio.sleep(action_after_s)
    await asyncio.to_thread(action)  # type: ignore[arg-type]
    return await task


@pytest.mark.parametrize("victim", ["transactions", "master", "biller"])
async def test_sigkill_during_a_burst(chaos: Chaos, victim: str) -> None:
    meter_index = ["transactions", "master", "biller"].index(victim)

    def kill_and_restart() -> None:
        process = chaos.system.processes[victim]
        process.send_signal(signal.SIGKILL)
        process.wait()
        chaos.system.restart(victim)

    burst = await _burst_with(chaos, meter_index, 0.6, kill_and_restart)
    await chaos.retry_unanswered(burst)
    await chaos.settled_and_consistent(burst)


async def test_the_biller_hangs_for_15_seconds(chaos: Chaos) -> None:
    """SIGSTOP: the biller accepts connections and answers nothing. Every buyer still learns its purchase
    (id and status) within its deadline instead of a transport error, and all settle after SIGCONT."""
    process = chaos.system.processes["biller"]
    process.send_signal(signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        burst = await chaos.burst(BURST, 3, spread_s=3.0)
        answered_in = time.monotonic() - stopped_at
    finally:
        await asyncio.sleep(max(0.0, 15.0 - (time.monotonic() - stopped_at)))
        process.send_signal(signal.SIGCONT)
    assert answered_in < 15.0
    purchases = [_purchase(answers[0]) for answers in burst.answers.values()]
    assert all(p is not None and p["status"] == "PENDING" for p in purchases), burst.answers
    await chaos.settled_and_consistent(burst)


async def test_the_daily_reconciliation_flags_a_sale_we_do_not_hold(chaos: Chaos) -> None:
    """Runs last for its system: a token the biller issued under a reference we never used shows up."""
    stray = "STR" + uuid.uuid4().hex.upper()
    body = orjson.dumps({"reference": stray, "meterNumber": "14233784991", "kwhTenths": 100, "amount": "20000.00"})
    path = "/v1/purchases"
    signature = sign_request(os.environ.get("SETRUM_BILLER_SECRET", DEV_BILLER_SECRET), "POST", path, body)
    async with httpx.AsyncClient(timeout=30) as http:
        sold = await http.post(chaos.system.spec("biller").base_url + path, content=body,
                               headers={SIGNATURE_HEADER: signature, "content-type": "application/json"})
        assert sold.json()["status"] == "SUCCESS", sold.text
        day = (datetime.now(UTC) + JAKARTA_OFFSET).date().isoformat()
        report = (await chaos.graphql(http, BILLER_RECONCILIATION, {"date": day}, ADMIN.id))["data"]
    assert report["billerReconciliation"]["ok"] is False
    assert report["billerReconciliation"]["missingHere"] == [stray]
