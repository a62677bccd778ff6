from __future__ import annotations

import asyncio
from decimal import Decimal

from setrum_common.demo_data import WALLET_OPENING_BALANCES

from .conftest import AGUS, SITI, GraphQL, error_code

WALLET = (
    "{ wallet { customerId balance currency entries(first: 50) { nodes { kind amount balanceAfter reference } } } }"
)
TOP_UP = """mutation($amount: Decimal!, $ref: String!) {
  topUpWallet(amount: $amount, paymentReference: $ref) { balance currency }
}"""


async def test_seeded_opening_balance_and_anonymous_refused(gql: GraphQL) -> None:
    result = await gql(WALLET, as_=SITI)
    wallet = result["data"]["wallet"]
    assert Decimal(wallet["balance"]) == WALLET_OPENING_BALANCES[SITI]
    assert wallet["currency"] == "IDR"
    assert [e["kind"] for e in wallet["entries"]["nodes"]] == ["DEV_TOPUP"]  # the demo opening balance
    assert error_code(await gql(WALLET)) == "UNAUTHENTICATED"


async def test_top_up_is_idempotent_by_payment_reference(gql: GraphQL) -> None:
    opening = WALLET_OPENING_BALANCES[AGUS]
    first = await gql(TOP_UP, {"amount": "250000", "ref": "pay-001"}, as_=AGUS)
    assert Decimal(first["data"]["topUpWallet"]["balance"]) == opening + 250000
    again = await gql(TOP_UP, {"amount": "250000", "ref": "pay-001"}, as_=AGUS)
    assert Decimal(again["data"]["topUpWallet"]["balance"]) == opening + 250000
    # Concurrent replays of a new reference credit once.
    results = await asyncio.gather(*(gql(TOP_UP, {"amount": "1000", "ref": "pay-002"}, as_=AGUS) for _ in range(10)))
    assert all("errors" not in r for r in results)
    wallet = (await gql(WALLET, as_=AGUS))["data"]["wallet"]
    assert Decimal(wallet["balance"]) == opening + 251000
    entries = wallet["entries"]["nodes"]
    assert [e["reference"] for e in entries].count("topup:pay-002") == 1
    assert Decimal(entries[0]["balanceAfter"]) == Decimal(wallet["balance"])


async def test_top_up_reference_reused_differently_is_duplicate(gql: GraphQL) -> None:
    await gql(TOP_UP, {"amount": "1000", "ref": "pay-x"}, as_=AGUS)
    assert error_code(await gql(TOP_UP, {"amount": "2000", "ref": "pay-x"}, as_=AGUS)) == "DUPLICATE_REFERENCE"
    # Another customer cannot claim the same payment either.
    assert error_code(await gql(TOP_UP, {"amount": "1000", "ref": "pay-x"}, as_=SITI)) == "DUPLICATE_REFERENCE"


async def test_top_up_amount_validation(gql: GraphQL) -> None:
    codes = {"0": "AMOUNT_OUT_OF_RANGE", "-5": "AMOUNT_NOT_DIGITS", "10.50": "AMOUNT_NOT_WHOLE_RUPIAH",
             "50000001": "AMOUNT_OUT_OF_RANGE", "1e400": "AMOUNT_NOT_DIGITS", "1e5": "AMOUNT_NOT_DIGITS"}  # fmt: skip
    for amount, code in codes.items():
        result = await gql(TOP_UP, {"amount": amount, "ref": f"bad-{amount}"}, as_=AGUS)
        assert error_code(result) == code, (amount, result)
    assert error_code(await gql(TOP_UP, {"amount": "1000", "ref": "has space"}, as_=AGUS)) == "BAD_USER_INPUT"
    ok = await gql(TOP_UP, {"amount": "50000000", "ref": "max"}, as_=AGUS)
    assert "errors" not in ok
