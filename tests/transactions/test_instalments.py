"""Instalment paydown through the GraphQL API: a fixed instalment per SUCCESS purchase until the
debt is paid, given back by a FAILED or refunded purchase, exact under concurrent purchases.

The meter: Rp 5,000 a purchase; its debt is Rp 20,000 (the demo value) or, where a test says so,
Rp 22,000 so the last instalment is a partial Rp 2,000. Master is the stand-in of ``fakes.py``,
which prices with whatever paid total transactions sends it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from setrum_common.demo_data import ADMIN, METERS

from .conftest import AGUS, BUDI, DEWI, SITI, GraphQL, error_code
from .fakes import FakeBiller, FakeMaster
from .helpers import buy

METER = next(m for m in METERS if m.instalment > 0)
REFUND = 'mutation($id: ID!) { refundPurchase(id: $id, reason: "reversed") { status } }'


def _receipt(result: dict[str, Any]) -> tuple[str, str, str]:
    p = result["data"]["purchaseToken"]
    return p["status"], p["instalment"], p["instalmentDebtLeft"]


async def test_the_debt_goes_down_once_per_success_and_comes_back_on_failure(
    gql: GraphQL, fake_biller: FakeBiller
) -> None:
    first = await buy(gql, SITI, METER.number, 50000, "inst-1")
    assert _receipt(first) == ("SUCCESS", "5000.00", "15000.00")
    fake_biller.mode = "fail"
    failed = await buy(gql, SITI, METER.number, 50000, "inst-2")
    assert _receipt(failed)[0] == "FAILED"  # booked 5,000, then gave it back with the refund
    fake_biller.mode = "success"
    assert _receipt(await buy(gql, SITI, METER.number, 50000, "inst-3")) == ("SUCCESS", "5000.00", "10000.00")
    # The biller reverses the first sale: its 5,000 is owed again.
    refunded = await gql(REFUND, {"id": first["data"]["purchaseToken"]["id"]}, as_=ADMIN.id)
    assert refunded["data"]["refundPurchase"]["status"] == "REFUNDED"
    assert _receipt(await buy(gql, SITI, METER.number, 50000, "inst-4")) == ("SUCCESS", "5000.00", "10000.00")
    assert _receipt(await buy(gql, SITI, METER.number, 50000, "inst-5")) == ("SUCCESS", "5000.00", "5000.00")
    assert _receipt(await buy(gql, SITI, METER.number, 50000, "inst-6")) == ("SUCCESS", "5000.00", "0.00")
    # Paid off: the next purchase takes no instalment, so the whole nominal buys energy.
    done = (await buy(gql, SITI, METER.number, 50000, "inst-7"))["data"]["purchaseToken"]
    assert (done["instalment"], done["instalmentDebtLeft"]) == ("0.00", "0.00")
    # 50,000 / 1.024 = 48,828.125 -> PPJ 1,171.88, energy value 48,828.12 (nothing kept for the debt).
    assert (done["ppj"], done["energyValue"]) == ("1171.88", "48828.12")


async def concurrent_paydown(gql: GraphQL, fake_master: FakeMaster, fake_biller: FakeBiller, prefix: str) -> None:
    """50 purchases at once on the meter (a third of them failing at the biller): the instalments of
    the SUCCESS purchases add up to the debt exactly, with one partial last instalment."""
    fake_master.debts[METER.number] = Decimal("22000")
    fake_biller.fail_every = 3
    buyers = [SITI, BUDI, DEWI, AGUS, SITI]  # Agus (Rp 150,000) runs out: INSUFFICIENT_BALANCE refusals
    results = await asyncio.gather(*(buy(gql, buyers[i % 5], METER.number, 20000, f"{prefix}-{i}") for i in range(50)))
    assert {error_code(r) for r in results if "errors" in r} <= {"INSUFFICIENT_BALANCE"}
    sold = [r["data"]["purchaseToken"] for r in results if "errors" not in r]
    success = [p for p in sold if p["status"] == "SUCCESS"]
    failed = [p for p in sold if p["status"] == "FAILED"]
    assert success and failed
    assert {p["instalment"] for p in sold} <= {"0.00", "2000.00", "5000.00"}
    paid = sum(Decimal(p["instalment"]) for p in success)
    assert paid <= Decimal("22000")
    # Failed purchases gave their instalment back; once the batch is over, later purchases take
    # what is still owed, one instalment each, and the total paid by SUCCESS purchases is the debt.
    fake_biller.fail_every = 0
    for n in range(6):
        after = (await buy(gql, BUDI, METER.number, 20000, f"{prefix}-after-{n}"))["data"]["purchaseToken"]
        assert after["status"] == "SUCCESS"
        paid += Decimal(after["instalment"])
        assert Decimal(after["instalmentDebtLeft"]) == Decimal("22000") - paid
    assert paid == Decimal("22000") and after["instalment"] == "0.00"
    report = await gql("{ walletReconciliation { ok } }", as_=ADMIN.id)
    assert report["data"]["walletReconciliation"]["ok"] is True


async def test_fifty_concurrent_purchases_pay_the_debt_exactly(
    gql: GraphQL, fake_master: FakeMaster, fake_biller: FakeBiller
) -> None:
    await concurrent_paydown(gql, fake_master, fake_biller, "conc")
