"""GraphQL documents and small helpers shared by the transactions tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from setrum_common.demo_data import METERS, DemoMeter

from .conftest import GraphQL

__all__ = ["BUY", "PURCHASE_FIELDS", "WALLET", "REFRESH", "balance", "buy", "ledger", "meter_where"]

PURCHASE_FIELDS = """
  id clientReference channelReference status meterNumber holderName idpel tariffCode powerVa
  nominal adminFee stampDuty ppn ppj instalment energyValue kwh totalPaid token formattedToken
  billerReference failureCode createdAt meter { number } customer { id }
  instalmentDebtLeft keyChangeTokens tokenInstructions
"""
BUY = f"""mutation($meter: String!, $denomination: Decimal!, $ref: String!) {{
  purchaseToken(meterNumber: $meter, denomination: $denomination, clientReference: $ref) {{ {PURCHASE_FIELDS} }}
}}"""
REFRESH = f"mutation($id: ID!) {{ refreshPurchase(id: $id) {{ {PURCHASE_FIELDS} }} }}"
WALLET = "{ wallet { balance entries(first: 100) { nodes { kind amount balanceAfter reference purchaseId } } } }"


def meter_where(**conditions: Any) -> DemoMeter:
    return next(m for m in METERS if all(getattr(m, k) == v for k, v in conditions.items()))


async def buy(gql: GraphQL, customer: str, meter: str, denomination: str | int, ref: str) -> dict[str, Any]:
    return await gql(BUY, {"meter": meter, "denomination": str(denomination), "ref": ref}, as_=customer)


async def balance(gql: GraphQL, customer: str) -> Decimal:
    return Decimal((await gql(WALLET, as_=customer))["data"]["wallet"]["balance"])


async def ledger(gql: GraphQL, customer: str) -> list[dict[str, Any]]:
    return (await gql(WALLET, as_=customer))["data"]["wallet"]["entries"]["nodes"]
