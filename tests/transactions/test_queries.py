from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event
from starlette.applications import Starlette

from setrum_common.demo_data import ADMIN, METERS, WALLET_OPENING_BALANCES
from setrum_common.service_app import print_sdl
from subgraphs.transactions.schema import schema

from .conftest import AGUS, BUDI, DEWI, SITI, GraphQL, error_code
from .fakes import FakeBiller
from .helpers import buy

ROOT = Path(__file__).resolve().parents[2]

CUSTOMER_PURCHASES = """query($id: ID!, $first: Int, $after: String, $status: PurchaseStatus, $from: DateTime, $to: DateTime) {
  _entities(representations: [{__typename: "Customer", id: $id}]) {
    ... on Customer {
      purchases(first: $first, after: $after, status: $status, from: $from, to: $to) {
        edges { cursor node { id clientReference status createdAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""
METER_PURCHASES = """query($n: String!) {
  _entities(representations: [{__typename: "Meter", number: $n}]) {
    ... on Meter { purchases(first: 50) { nodes { clientReference customer { id } } } }
  }
}"""


async def _page(gql: GraphQL, customer: str, **variables: Any) -> dict[str, Any]:
    result = await gql(CUSTOMER_PURCHASES, {"id": customer, **variables}, as_=customer)
    assert "errors" not in result, result
    return result["data"]["_entities"][0]["purchases"]


async def test_customer_purchases_paginate_newest_first_with_filters(gql: GraphQL, fake_biller: FakeBiller) -> None:
    for i in range(5):
        await buy(gql, BUDI, METERS[1].number, 20000, f"p-{i}")
    fake_biller.mode = "fail"
    await buy(gql, BUDI, METERS[1].number, 20000, "p-failed")

    seen: list[str] = []
    after = None
    while True:
        page = await _page(gql, BUDI, first=2, after=after)
        seen += [e["node"]["clientReference"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["p-failed", "p-4", "p-3", "p-2", "p-1", "p-0"]

    failed = await _page(gql, BUDI, status="FAILED")
    assert [e["node"]["clientReference"] for e in failed["edges"]] == ["p-failed"]
    success = await _page(gql, BUDI, status="SUCCESS", first=50)
    assert len(success["edges"]) == 5

    middle = (await _page(gql, BUDI, first=50))["edges"]
    pivot = datetime.fromisoformat(middle[2]["node"]["createdAt"])  # p-3
    newer = await _page(gql, BUDI, first=50, **{"from": pivot.isoformat()})
    assert [e["node"]["clientReference"] for e in newer["edges"]] == ["p-failed", "p-4", "p-3"]
    older = await _page(gql, BUDI, first=50, to=pivot.isoformat())
    assert [e["node"]["clientReference"] for e in older["edges"]] == ["p-2", "p-1", "p-0"]
    future = await _page(gql, BUDI, **{"from": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert future["edges"] == [] and future["pageInfo"] == {"hasNextPage": False, "endCursor": None}

    assert error_code(await gql(CUSTOMER_PURCHASES, {"id": BUDI, "after": "garbage!"}, as_=BUDI)) == "BAD_USER_INPUT"
    assert error_code(await gql(CUSTOMER_PURCHASES, {"id": BUDI, "first": 500}, as_=BUDI)) == "BAD_USER_INPUT"
    assert error_code(await gql(CUSTOMER_PURCHASES, {"id": BUDI}, as_=SITI)) == "FORBIDDEN"


async def test_meter_purchases_admin_sees_all_customer_only_own(gql: GraphQL) -> None:
    meter = METERS[3].number
    await buy(gql, SITI, meter, 20000, "s-1")
    await buy(gql, BUDI, meter, 20000, "b-1")
    await buy(gql, SITI, METERS[0].number, 20000, "s-other-meter")

    def refs(result: dict[str, Any]) -> list[str]:
        return [n["clientReference"] for n in result["data"]["_entities"][0]["purchases"]["nodes"]]

    assert refs(await gql(METER_PURCHASES, {"n": meter}, as_=ADMIN.id)) == ["b-1", "s-1"]
    assert refs(await gql(METER_PURCHASES, {"n": meter}, as_=SITI)) == ["s-1"]
    assert refs(await gql(METER_PURCHASES, {"n": meter}, as_=BUDI)) == ["b-1"]
    assert error_code(await gql(METER_PURCHASES, {"n": meter})) == "UNAUTHENTICATED"


async def test_admin_refund_of_a_success_credits_once(gql: GraphQL) -> None:
    before = Decimal((await gql("{ wallet { balance } }", as_=DEWI))["data"]["wallet"]["balance"])
    purchase = (await buy(gql, DEWI, METERS[8].number, 50000, "r-1"))["data"]["purchaseToken"]
    refund = 'mutation($id: ID!) { refundPurchase(id: $id, reason: "biller reversal") { status } }'
    assert error_code(await gql(refund, {"id": purchase["id"]}, as_=DEWI)) == "FORBIDDEN"
    results = await asyncio.gather(*(gql(refund, {"id": purchase["id"]}, as_=ADMIN.id) for _ in range(4)))
    assert sum(1 for r in results if "errors" not in r) == 1
    assert [r["data"]["refundPurchase"]["status"] for r in results if "errors" not in r] == ["REFUNDED"]
    after = Decimal((await gql("{ wallet { balance } }", as_=DEWI))["data"]["wallet"]["balance"])
    assert after == before


async def test_ledger_reconciles_after_mixed_concurrent_workload(gql: GraphQL, fake_biller: FakeBiller) -> None:
    fake_biller.fail_every = 3  # every third sale fails at the biller and must be refunded exactly once
    customers = (SITI, BUDI, DEWI, AGUS)
    meters = (METERS[0], METERS[1], METERS[3], METERS[5])
    jobs = []
    for i in range(24):
        customer, meter = customers[i % 4], meters[i % 4]
        jobs.append(buy(gql, customer, meter.number, 50000, f"mix-{i}"))
        jobs.append(buy(gql, customer, meter.number, 50000, f"mix-{i}"))  # a concurrent replay
        if i % 5 == 0:
            jobs.append(
                gql(
                    'mutation($r: String!) { topUpWallet(amount: "30000", paymentReference: $r) { balance } }',
                    {"r": f"mix-topup-{i}"},
                    as_=customer,
                )
            )
    results = await asyncio.gather(*jobs)
    codes = {error_code(r) for r in results}
    assert codes <= {None, "INSUFFICIENT_BALANCE"}, codes
    assert None in codes and "INSUFFICIENT_BALANCE" in codes  # Agus runs out: the guard was exercised
    assert any(s.final == "FAILED" for s in fake_biller.sales.values())

    report = await gql(
        "{ walletReconciliation { ok walletsChecked walletMismatches { customerId } usageMismatches { meterNumber } } }",
        as_=ADMIN.id,
    )
    data = report["data"]["walletReconciliation"]
    assert data["ok"] is True and data["walletMismatches"] == [] and data["usageMismatches"] == []
    assert data["walletsChecked"] == len(WALLET_OPENING_BALANCES)
    for customer in customers:
        wallet = (await gql("{ wallet { balance entries(first: 100) { nodes { amount } } } }", as_=customer))["data"]
        entries = wallet["wallet"]["entries"]["nodes"]
        assert Decimal(wallet["wallet"]["balance"]) == sum(Decimal(e["amount"]) for e in entries) >= 0
    assert error_code(await gql("{ walletReconciliation { ok } }", as_=SITI)) == "FORBIDDEN"


def test_checked_in_sdl_matches_the_schema() -> None:
    assert (ROOT / "schema" / "transactions.graphql").read_text() == print_sdl(schema)


async def test_service_sdl_over_http_matches_file(gql: GraphQL) -> None:
    result = await gql("{ _service { sdl } }")
    assert result["data"]["_service"]["sdl"].rstrip() + "\n" == (ROOT / "schema" / "transactions.graphql").read_text()


class _StatementCounter:
    def __init__(self, app: Starlette) -> None:
        self.selects = 0
        self.engine = app.state.db.engine.sync_engine

    def __enter__(self) -> _StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.selects += 1


async def test_entity_references_are_batched(gql: GraphQL, app: Starlette) -> None:
    active = [m for m in METERS[1:] if m.status == "ACTIVE"][:10]
    ids = []
    for i in range(20):
        purchase = (await buy(gql, BUDI, active[i % 10].number, 20000, f"n1-{i}"))["data"]["purchaseToken"]
        assert purchase is not None
        ids.append(purchase["id"])
    purchase_reps = [{"__typename": "Purchase", "id": i} for i in ids]
    customer_reps = [{"__typename": "Customer", "id": c} for c in (SITI, BUDI, DEWI, AGUS)] * 5
    meter_reps = [{"__typename": "Meter", "number": m.number} for m in METERS[:20]]

    with _StatementCounter(app) as counter:
        result = await gql(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Purchase { id kwh customer { id } } } }",
            {"r": purchase_reps},
            as_=ADMIN.id,
        )
    assert [e["id"] for e in result["data"]["_entities"]] == ids
    assert counter.selects == 1

    with _StatementCounter(app) as counter:
        result = await gql(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id wallet { balance } } } }",
            {"r": customer_reps},
            as_=ADMIN.id,
        )
    assert len(result["data"]["_entities"]) == 20 and "errors" not in result
    assert counter.selects == 1

    with _StatementCounter(app) as counter:
        result = await gql(
            "query($r: [_Any!]!) { _entities(representations: $r) "
            "{ ... on Meter { number monthlyUsage { kwh limitKwh } } } }",
            {"r": meter_reps},
            as_=ADMIN.id,
        )
    assert "errors" not in result, result
    usage = {e["number"]: e["monthlyUsage"] for e in result["data"]["_entities"]}
    assert usage[METERS[1].number]["limitKwh"] == "5544.0"  # 7,700 VA
    assert usage[METERS[0].number] == {"kwh": "0.0", "limitKwh": None}
    assert counter.selects == 2
