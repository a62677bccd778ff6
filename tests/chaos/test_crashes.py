"""A burst of purchases with a crash or a hang in the middle of it; afterwards everything settles on its own."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from setrum_common.demo_data import ADMIN, METERS

from .conftest import BILLER_RECONCILIATION, BUY, BUYERS, JAKARTA_OFFSET, Burst, Chaos, _purchase

BURST = 30


async def _burst_with(chaos: Chaos, meter_index: int, action_after_s: float, action: Callable[[], object]) -> Burst:
    task = asyncio.create_task(chaos.burst(BURST, meter_index))
    await asyncio.sleep(action_after_s)
    await asyncio.to_thread(action)
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


def _status(answer: dict[str, Any]) -> str | None:
    purchase = _purchase(answer)
    return None if purchase is None else str(purchase["status"])


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
    # Only the odd answers in the message, so a failure shows what came back instead of PENDING.
    odd = {ref: answers for ref, answers in burst.answers.items() if _status(answers[0]) != "PENDING"}
    assert not odd, odd
    await chaos.settled_and_consistent(burst)


@pytest.mark.parametrize("victim", ["transactions", "router"])
async def test_sigterm_stops_being_ready_and_finishes_the_purchase_in_flight(chaos: Chaos, victim: str) -> None:
    """A rolling restart's first half: the service, asked to stop while a purchase waits for a slow biller,
    answers /ready 503 at once, still delivers that purchase, and exits cleanly."""
    meter = [m for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014][6].number
    fault = await chaos.biller("PUT", "/v1/faults", {"mode": "delay", "meterNumber": meter, "delayMs": 2000})
    assert fault.status_code < 300, fault.text
    process = chaos.system.processes[victim]
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            variables = {"meter": meter, "denomination": "20000", "ref": f"sigterm-{uuid.uuid4().hex[:12]}"}
            in_flight = asyncio.create_task(chaos.graphql(http, BUY, variables, BUYERS[0]))
            await asyncio.sleep(0.8)
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            ready = await http.get(chaos.system.spec(victim).base_url + "/ready")
            assert ready.status_code == 503 and ready.json()["status"] == "DRAINING"
            answer = await in_flight
        assert answer["data"]["purchaseToken"]["status"] == "SUCCESS", answer
        # uvicorn ends by re-raising the signal it handled, so the status says "stopped by SIGTERM"
        assert await asyncio.to_thread(process.wait, 15) in (0, -signal.SIGTERM)
    finally:
        await chaos.biller("DELETE", "/v1/faults")
        await asyncio.to_thread(chaos.system.restart, victim)


async def test_the_daily_reconciliation_flags_a_sale_we_do_not_hold(chaos: Chaos) -> None:
    """Runs last for its system: a token the biller issued under a reference we never used shows up."""
    stray = "STR" + uuid.uuid4().hex.upper()
    # 13.8 kWh: what Rp 20,000 with no deductions buys at R1 / 1,300 VA (the biller prices it itself).
    payload = {"reference": stray, "meterNumber": "14233784991", "kwhTenths": 138, "amount": "20000.00"}
    sold = await chaos.biller("POST", "/v1/purchases", payload)
    assert sold.json()["status"] == "SUCCESS", sold.text
    async with httpx.AsyncClient(timeout=30) as http:
        day = (datetime.now(UTC) + JAKARTA_OFFSET).date().isoformat()
        report = (await chaos.graphql(http, BILLER_RECONCILIATION, {"date": day}, ADMIN.id))["data"]
    assert report["billerReconciliation"]["ok"] is False
    differences = report["billerReconciliation"]["differences"]
    assert [(d["channelReference"], d["problem"]) for d in differences] == [(stray, "MISSING_HERE")]
