"""Each fault switch, observed through the API the transactions subgraph uses."""

from __future__ import annotations

import asyncio

import pytest

from sts.meter import Outcome

from .conftest import METER, OTHER_METER, SignedClient, simulator_for


async def test_delay_still_sells_one_token(biller: SignedClient) -> None:
    await biller.fault("delay", delayMs=20)
    answer = await biller.purchase("slow-1")
    assert answer["status"] == "SUCCESS"
    assert simulator_for(METER).enter(answer["token"]).accepted


async def test_pending_then_success(biller: SignedClient) -> None:
    await biller.fault("pending_then_success", meterNumber=METER, pendingPolls=3)
    first = await biller.purchase("pend-1")
    assert (first["status"], first["token"], first["kwh"]) == ("PENDING", None, None)
    # Answers 2 and 3 are still PENDING (a replayed POST counts like a status query)...
    assert (await biller.status("pend-1")).json()["status"] == "PENDING"
    assert (await biller.purchase("pend-1"))["status"] == "PENDING"
    # ...then the token arrives, and stays the same on every later query.
    done = (await biller.status("pend-1")).json()
    assert done["status"] == "SUCCESS"
    assert done["billerReference"] == first["billerReference"]
    assert (await biller.status("pend-1")).json() == done
    meter = simulator_for(METER)
    assert meter.enter(done["token"]).credited_tenths == 675


async def test_fail_and_maintenance(biller: SignedClient) -> None:
    await biller.fault("fail")
    failed = await biller.purchase("fail-1")
    assert (failed["status"], failed["code"], failed["token"]) == ("FAILED", "BILLER_FAILED", None)
    await biller.fault("maintenance")
    down = await biller.purchase("maint-1")
    assert (down["status"], down["code"]) == ("FAILED", "BILLER_MAINTENANCE")
    # Clearing the faults does not turn a stored failure into a sale.
    assert (await biller.request("DELETE", "/v1/faults")).status_code == 200
    assert (await biller.purchase("fail-1")) == failed
    assert (await biller.purchase("fresh-1"))["status"] == "SUCCESS"


async def test_meter_fault_does_not_touch_other_meters(biller: SignedClient) -> None:
    await biller.fault("fail", meterNumber=OTHER_METER)
    assert (await biller.purchase("other-1", meter=OTHER_METER))["status"] == "FAILED"
    assert (await biller.purchase("mine-1", meter=METER))["status"] == "SUCCESS"
    await biller.fault("none", meterNumber=OTHER_METER)
    assert (await biller.purchase("other-2", meter=OTHER_METER))["status"] == "SUCCESS"


async def test_timeout_answers_too_late_but_the_sale_is_stored(biller: SignedClient) -> None:
    await biller.fault("timeout")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(biller.purchase("late-1"), timeout=0.5)
    # The client resolves it by asking again with the same reference: one token, not two.
    answer = (await biller.status("late-1")).json()
    assert answer["status"] == "SUCCESS"
    meter = simulator_for(METER)
    assert meter.enter(answer["token"]).outcome is Outcome.ACCEPTED


async def test_bad_fault_request_is_400(biller: SignedClient) -> None:
    response = await biller.request("PUT", "/v1/faults", {"mode": "explode"})
    assert response.status_code == 400
    response = await biller.request("PUT", "/v1/faults", {"mode": "delay", "delayMs": -1})
    assert response.status_code == 400
