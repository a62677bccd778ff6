from __future__ import annotations

import asyncio
from decimal import Decimal

from setrum_common.demo_data import ADMIN, METERS

from .conftest import AGUS, BUDI, SITI, GraphQL, error_code
from .fakes import FakeBiller, FakeMaster
from .helpers import BUY, PURCHASE_FIELDS, REFRESH, balance, buy, ledger, meter_where

METER = METERS[0]  # R1/1300 VA, Siti Rahmawati


async def test_buy_debits_wallet_stores_receipt_and_token(gql: GraphQL, fake_biller: FakeBiller) -> None:
    before = await balance(gql, SITI)
    result = await buy(gql, SITI, METER.number, 100000, "order-1")
    purchase = result["data"]["purchaseToken"]
    assert purchase["status"] == "SUCCESS"
    assert purchase["clientReference"] == "order-1"
    assert purchase["meterNumber"] == METER.number and purchase["idpel"] == METER.idpel
    assert purchase["holderName"] == METER.holder_name
    assert (purchase["tariffCode"], purchase["powerVa"]) == ("R1", 1300)
    # docs/domain.md §Price and kWh worked example: R-1/1,300 VA, 2.4% PPJ, nominal 100,000.
    assert purchase["nominal"] == "100000.00"
    assert purchase["energyValue"] == "97656.25" and purchase["ppj"] == "2343.75"
    assert purchase["kwh"] == "67.5"
    assert purchase["totalPaid"] == "102500.00" and purchase["adminFee"] == "2500.00"
    assert len(purchase["token"]) == 20 and purchase["formattedToken"].count("-") == 4
    assert purchase["billerReference"]
    assert purchase["meter"] == {"number": METER.number} and purchase["customer"] == {"id": SITI}
    # Our reference towards the biller is ours, not the client's string.
    assert purchase["channelReference"] != "order-1"
    assert list(fake_biller.sales) == [purchase["channelReference"]]
    assert await balance(gql, SITI) == before - Decimal("102500")
    debit = (await ledger(gql, SITI))[0]
    assert debit["kind"] == "PURCHASE_DEBIT" and Decimal(debit["amount"]) == Decimal("-102500")
    assert debit["purchaseId"] == purchase["id"]

    reprint = await gql("mutation($id: ID!) { reprintToken(id: $id) { token } }", {"id": purchase["id"]}, as_=SITI)
    assert reprint["data"]["reprintToken"]["token"] == purchase["token"]
    assert fake_biller.tokens_issued == 1


async def test_replay_answers_the_first_purchase_after_master_stops_selling_it(
    gql: GraphQL, fake_biller: FakeBiller, fake_master: FakeMaster
) -> None:
    first = (await buy(gql, SITI, METER.number, 50000, "order-w"))["data"]["purchaseToken"]
    fake_master.denominations.discard(Decimal(50000))  # withdrawn after the sale
    again = (await buy(gql, SITI, METER.number, 50000, "order-w"))["data"]["purchaseToken"]
    assert (again["id"], again["token"]) == (first["id"], first["token"])
    assert error_code(await buy(gql, SITI, METER.number, 50000, "order-w2")) == "PRODUCT_UNAVAILABLE"
    assert fake_biller.posts == 1


async def test_replay_returns_same_purchase_and_charges_once(
    gql: GraphQL, fake_biller: FakeBiller, fake_master: FakeMaster
) -> None:
    before = await balance(gql, SITI)
    first = (await buy(gql, SITI, METER.number, 50000, "order-r"))["data"]["purchaseToken"]
    again = (await buy(gql, SITI, METER.number, 50000, "order-r"))["data"]["purchaseToken"]
    assert again["id"] == first["id"] and again["token"] == first["token"]
    assert await balance(gql, SITI) == before - Decimal(first["totalPaid"])
    # The replay was quoted again (idempotency is the booking's, no read before a fresh purchase), then
    # met its reference: it reached neither the wallet nor the biller.
    assert fake_biller.posts == 1 and fake_master.calls == 2
    # Same reference, different request -> DUPLICATE_REFERENCE, nothing charged.
    assert error_code(await buy(gql, SITI, METER.number, 100000, "order-r")) == "DUPLICATE_REFERENCE"
    assert error_code(await buy(gql, SITI, METERS[3].number, 50000, "order-r")) == "DUPLICATE_REFERENCE"
    # Another customer may use the same client reference for their own purchase.
    other = await buy(gql, BUDI, METERS[1].number, 50000, "order-r")
    assert other["data"]["purchaseToken"]["id"] != first["id"]
    assert await balance(gql, SITI) == before - Decimal(first["totalPaid"])


async def test_twenty_concurrent_replays_make_one_purchase_and_one_debit(gql: GraphQL, fake_biller: FakeBiller) -> None:
    before = await balance(gql, SITI)
    results = await asyncio.gather(*(buy(gql, SITI, METER.number, 20000, "burst-1") for _ in range(20)))
    assert all("errors" not in r for r in results), [r.get("errors") for r in results]
    ids = {r["data"]["purchaseToken"]["id"] for r in results}
    assert len(ids) == 1
    debits = [e for e in await ledger(gql, SITI) if e["kind"] == "PURCHASE_DEBIT"]
    assert len(debits) == 1
    assert await balance(gql, SITI) == before - Decimal("22500")
    assert fake_biller.tokens_issued == 1 and len(fake_biller.sales) == 1


async def test_pending_then_refresh_succeeds_with_same_reference(gql: GraphQL, fake_biller: FakeBiller) -> None:
    fake_biller.mode, fake_biller.pending_polls = "pending_then_success", 2
    purchase = (await buy(gql, SITI, METER.number, 100000, "slow-1"))["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING" and purchase["token"] is None
    first = (await gql(REFRESH, {"id": purchase["id"]}, as_=SITI))["data"]["refreshPurchase"]
    assert first["status"] == "PENDING"
    done = (await gql(REFRESH, {"id": purchase["id"]}, as_=SITI))["data"]["refreshPurchase"]
    assert done["status"] == "SUCCESS" and len(done["token"]) == 20
    assert fake_biller.posts == 1 and fake_biller.gets == 2 and len(fake_biller.sales) == 1
    # Refreshing a finished purchase does not call the biller again.
    again = (await gql(REFRESH, {"id": purchase["id"]}, as_=SITI))["data"]["refreshPurchase"]
    assert again["token"] == done["token"] and fake_biller.gets == 2


async def test_failed_purchase_is_refunded_exactly_once(gql: GraphQL, fake_biller: FakeBiller) -> None:
    before = await balance(gql, SITI)
    fake_biller.mode = "fail"
    purchase = (await buy(gql, SITI, METER.number, 100000, "fail-1"))["data"]["purchaseToken"]
    assert purchase["status"] == "FAILED" and purchase["token"] is None
    assert purchase["failureCode"] == "METER_BLOCKED"
    await asyncio.gather(*(gql(REFRESH, {"id": purchase["id"]}, as_=SITI) for _ in range(5)))
    await buy(gql, SITI, METER.number, 100000, "fail-1")  # a replay refunds nothing more
    assert await balance(gql, SITI) == before
    mine = [e for e in await ledger(gql, SITI) if e["purchaseId"] == purchase["id"]]
    assert sorted(e["kind"] for e in mine) == ["PURCHASE_DEBIT", "REFUND_CREDIT"]
    assert sum(Decimal(e["amount"]) for e in mine) == 0
    reprint = await gql("mutation($id: ID!) { reprintToken(id: $id) { token } }", {"id": purchase["id"]}, as_=SITI)
    assert error_code(reprint) == "BAD_USER_INPUT"


async def test_biller_timeout_leaves_pending_and_refresh_never_sells_twice(
    gql: GraphQL, fake_biller: FakeBiller
) -> None:
    before = await balance(gql, SITI)
    fake_biller.mode = "timeout_after_sale"  # the biller sold, but its answer was lost
    purchase = (await buy(gql, SITI, METER.number, 100000, "lost-1"))["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING"
    assert await balance(gql, SITI) == before - Decimal("102500")  # still charged while PENDING
    fake_biller.mode = "success"
    done = (await gql(REFRESH, {"id": purchase["id"]}, as_=SITI))["data"]["refreshPurchase"]
    assert done["status"] == "SUCCESS"
    assert fake_biller.tokens_issued == 1 and fake_biller.posts == 1 and len(fake_biller.sales) == 1


async def test_biller_timeout_before_sale_is_resent_with_the_same_reference(
    gql: GraphQL, fake_biller: FakeBiller
) -> None:
    fake_biller.mode = "timeout"  # the request never reached the biller
    purchase = (await buy(gql, SITI, METER.number, 50000, "lost-2"))["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING" and fake_biller.sales == {}
    fake_biller.mode = "success"
    done = (await gql(REFRESH, {"id": purchase["id"]}, as_=SITI))["data"]["refreshPurchase"]
    assert done["status"] == "SUCCESS"
    assert list(fake_biller.sales) == [purchase["channelReference"]]


async def test_maintenance_refunds_and_reports_biller_maintenance(gql: GraphQL, fake_biller: FakeBiller) -> None:
    before = await balance(gql, SITI)
    fake_biller.mode = "maintenance"
    result = await buy(gql, SITI, METER.number, 50000, "cutoff-1")
    assert error_code(result) == "BILLER_MAINTENANCE"
    assert await balance(gql, SITI) == before
    found = await gql('{ purchaseByReference(clientReference: "cutoff-1") { status } }', as_=SITI)
    assert found["data"]["purchaseByReference"]["status"] == "FAILED"


async def test_master_errors_pass_through_and_nothing_is_charged(gql: GraphQL, fake_biller: FakeBiller) -> None:
    before = await balance(gql, SITI)
    blocked = meter_where(status="BLOCKED")
    assert error_code(await buy(gql, SITI, blocked.number, 50000, "b-1")) == "CUSTOMER_BLOCKED"
    assert error_code(await buy(gql, SITI, "14233784990", 50000, "b-2")) == "WRONG_CUSTOMER_NUMBER"
    assert error_code(await buy(gql, SITI, "1423", 50000, "b-3")) == "WRONG_DIGIT_COUNT"
    assert error_code(await buy(gql, SITI, METER.number, 12345, "b-4")) == "PRODUCT_UNAVAILABLE"
    assert error_code(await buy(gql, SITI, METER.number, "100.5", "b-5")) == "AMOUNT_NOT_WHOLE_RUPIAH"
    assert error_code(await buy(gql, SITI, METER.number, 50000, "")) == "BAD_USER_INPUT"
    assert await balance(gql, SITI) == before and fake_biller.posts == 0


async def test_insufficient_balance_charges_nothing_and_records_nothing(gql: GraphQL, fake_biller: FakeBiller) -> None:
    before = await balance(gql, AGUS)  # 150,000
    result = await buy(gql, AGUS, METERS[10].number, 200000, "big-1")
    assert error_code(result) == "INSUFFICIENT_BALANCE"
    assert await balance(gql, AGUS) == before
    found = await gql('{ purchaseByReference(clientReference: "big-1") { id } }', as_=AGUS)
    assert found["data"]["purchaseByReference"] is None
    assert fake_biller.posts == 0
    # The same reference can be used once the wallet covers it.
    ok = await buy(gql, AGUS, METERS[10].number, 100000, "big-1")
    assert ok["data"]["purchaseToken"]["status"] == "SUCCESS"


async def test_monthly_kwh_cap_per_meter(gql: GraphQL) -> None:
    small = meter_where(power_va=450, status="ACTIVE", instalment=Decimal(0))  # cap 324 kWh
    first = (await buy(gql, BUDI, small.number, 100000, "cap-1"))["data"]["purchaseToken"]
    assert first["status"] == "SUCCESS"
    refused = await buy(gql, BUDI, small.number, 100000, "cap-2")
    assert error_code(refused) == "KWH_LIMIT_EXCEEDED"
    usage = await gql(
        'query($n: String!) { _entities(representations: [{__typename: "Meter", number: $n}]) '
        "{ ... on Meter { monthlyUsage { month kwh limitKwh remainingKwh } } } }",
        {"n": small.number},
        as_=BUDI,
    )
    monthly = usage["data"]["_entities"][0]["monthlyUsage"]
    assert monthly["kwh"] == first["kwh"] and monthly["limitKwh"] == "324.0"
    assert Decimal(monthly["remainingKwh"]) == Decimal("324") - Decimal(first["kwh"])
    # A smaller purchase that fits is still allowed.
    assert (await buy(gql, BUDI, small.number, 20000, "cap-3"))["data"]["purchaseToken"]["status"] == "SUCCESS"


async def test_another_customers_purchase_is_forbidden(gql: GraphQL) -> None:
    purchase = (await buy(gql, SITI, METER.number, 20000, "mine-1"))["data"]["purchaseToken"]
    query = f"query($id: ID!) {{ purchase(id: $id) {{ {PURCHASE_FIELDS} }} }}"
    assert (await gql(query, {"id": purchase["id"]}, as_=SITI))["data"]["purchase"]["id"] == purchase["id"]
    assert error_code(await gql(query, {"id": purchase["id"]}, as_=BUDI)) == "FORBIDDEN"
    assert error_code(await gql(query, {"id": purchase["id"]})) == "UNAUTHENTICATED"
    assert (await gql(query, {"id": purchase["id"]}, as_=ADMIN.id))["data"]["purchase"]["id"] == purchase["id"]
    for mutation in ("refreshPurchase", "reprintToken"):
        result = await gql(f"mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}", {"id": purchase["id"]}, as_=BUDI)
        assert error_code(result) == "FORBIDDEN"
    wallet = await gql(
        'query($id: ID!) { _entities(representations: [{__typename: "Customer", id: $id}]) '
        "{ ... on Customer { wallet { balance } } } }",
        {"id": SITI},
        as_=BUDI,
    )
    assert error_code(wallet) == "FORBIDDEN"
    assert (
        await gql(
            BUY.replace("purchaseToken", "purchaseToken"), {"meter": METER.number, "denomination": "20000", "ref": "x"}
        )
    )["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_operator_queue_of_pending_purchases(gql: GraphQL, fake_biller: FakeBiller) -> None:
    fake_biller.mode = "pending_forever"
    held = (await buy(gql, SITI, METER.number, 20000, "held-1"))["data"]["purchaseToken"]
    assert held["status"] == "PENDING"
    queue = "{ pendingPurchases { id status } purchasesInReview { id } }"
    answer = (await gql(queue, as_=ADMIN.id))["data"]
    assert answer["pendingPurchases"] == [{"id": held["id"], "status": "PENDING"}]
    assert answer["purchasesInReview"] == []  # PENDING: the settlement worker has not moved it to REVIEW
    assert error_code(await gql(queue, as_=SITI)) == "FORBIDDEN"
