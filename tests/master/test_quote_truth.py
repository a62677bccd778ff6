"""A quote refuses what the purchase would refuse and says what is left: the month's kWh, the
instalment debt, a key change due (what transactions tells master, here a stand-in)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from setrum_common import demo_data as demo

from .conftest import FakeTransactions, GraphQLClient, error_codes

QUOTE = """
query($m: String!, $d: Decimal!) { quote(meterNumber: $m, denomination: $d) {
  kwh instalment instalmentDebtLeft energyValue monthlyKwhLimit monthlyKwhRemaining
  keyChange { reason tokensBeforeCredit instructions }
} }
"""
SITI = demo.METERS[0]  # R1 / 1,300 VA in Jakarta: 936 kWh a month
WITH_INSTALMENT = next(m for m in demo.METERS if m.instalment > 0)  # Rp 5,000 a purchase, Rp 20,000 owed


def _state(used: str = "0.0", paid: str = "0.00", key_change: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"month": "2026-12", "limitKwh": "936.0", "usedKwh": used, "instalmentPaid": paid, "keyChange": key_change}


async def test_quote_shows_the_kwh_left_and_refuses_beyond_the_cap(
    gql: GraphQLClient, transactions: FakeTransactions
) -> None:
    transactions.states[SITI.number] = _state(used="900.0")
    # Rp 50,000 on R1/1,300 VA in Jakarta: 50,000 / 1.024 = 48,828.125 -> PPJ 1,171.88,
    # energy value 48,828.12 -> 33.79 kWh -> 33.7 kWh; 936 - 900 = 36 kWh are left.
    q = (await gql(QUOTE, {"m": SITI.number, "d": "50000"}))["data"]["quote"]
    assert (q["kwh"], q["monthlyKwhRemaining"], q["keyChange"]) == ("33.7", "36.0", None)
    assert transactions.requests[-1] == {"meterNumber": SITI.number, "powerVa": 1300}
    # Rp 100,000 carries 67.5 kWh: more than the 36 left, refused with the purchase's own code.
    refused = await gql(QUOTE, {"m": SITI.number, "d": "100000"})
    assert error_codes(refused) == ["KWH_LIMIT_EXCEEDED"]
    assert refused["errors"][0]["extensions"]["remainingKwh"] == "36.0"


async def test_quote_without_transactions_still_prices(gql: GraphQLClient) -> None:
    q = (await gql(QUOTE, {"m": SITI.number, "d": "100000"}))["data"]["quote"]
    assert (q["kwh"], q["monthlyKwhRemaining"], q["keyChange"]) == ("67.5", None, None)


async def test_quote_announces_the_key_change_flow(gql: GraphQLClient, transactions: FakeTransactions) -> None:
    reason = "base date 1993 ran out of token identifiers on 2024-11-24 20:16 UTC"
    transactions.states[SITI.number] = _state(key_change={"reason": reason})
    q = (await gql(QUOTE, {"m": SITI.number, "d": "100000"}))["data"]["quote"]
    assert q["keyChange"]["reason"] == reason and q["keyChange"]["tokensBeforeCredit"] == 2
    assert "enter the 1st key change token, then the 2nd, then the credit token" in q["keyChange"]["instructions"]
    assert q["kwh"] == "67.5"  # the key change costs nothing


async def test_quote_takes_the_instalment_until_the_debt_is_paid(
    gql: GraphQLClient, transactions: FakeTransactions
) -> None:
    number = WITH_INSTALMENT.number
    cases = [  # paid so far -> (instalment of this purchase, debt left after it)
        ("0.00", "5000.00", "15000.00"),
        ("15000.00", "5000.00", "0.00"),
        ("17000.00", "3000.00", "0.00"),  # never more than what is left
        ("20000.00", "0.00", "0.00"),
    ]
    for paid, instalment, left in cases:
        transactions.states[number] = _state(paid=paid)
        q = (await gql(QUOTE, {"m": number, "d": "50000"}))["data"]["quote"]
        assert (q["instalment"], q["instalmentDebtLeft"]) == (instalment, left), paid
        # The instalment comes out of the nominal before the energy value.
        assert Decimal(q["energyValue"]) < Decimal("50000") - Decimal(instalment)
