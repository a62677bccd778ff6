"""Business metrics scraped from ``/metrics``: purchases by status and rupiah booked per ledger kind."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from setrum_common.demo_data import ADMIN, METERS

from .conftest import BUDI, SITI, GraphQL
from .fakes import FakeBiller
from .helpers import buy, ledger


async def scrape(gql: GraphQL) -> dict[tuple[str, str], Decimal]:
    """``{(sample name, label value): value}`` for the setrum_* series."""
    response = await gql.http.get("/metrics")
    assert response.status_code == 200
    samples: dict[tuple[str, str], Decimal] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name.startswith("setrum_") and sample.name.endswith("_total"):
                label = sample.labels.get("status") or sample.labels.get("kind") or ""
                samples[(sample.name, label)] = Decimal(str(sample.value))
    return samples


def delta(
    after: dict[tuple[str, str], Decimal], before: dict[tuple[str, str], Decimal], name: str, label: str
) -> Decimal:
    return after[(name, label)] - before.get((name, label), Decimal(0))


PURCHASES = "setrum_purchases_total"
LEDGER = "setrum_wallet_ledger_amount_rupiah_total"


async def test_every_series_is_exposed_from_the_start(gql: GraphQL) -> None:
    samples = await scrape(gql)
    for status in ("PENDING", "SUCCESS", "FAILED", "REFUNDED"):
        assert (PURCHASES, status) in samples
    for kind in ("TOPUP", "DEV_TOPUP", "ADJUSTMENT", "PURCHASE_DEBIT", "REFUND_CREDIT"):
        assert (LEDGER, kind) in samples


async def test_purchase_and_top_up_are_counted(gql: GraphQL) -> None:
    before = await scrape(gql)
    purchase = (await buy(gql, SITI, METERS[0].number, 100000, "metrics-1"))["data"]["purchaseToken"]
    assert purchase["status"] == "SUCCESS"
    top_up = await gql(
        'mutation { topUpWallet(amount: "250000", paymentReference: "metrics-pay-1") { balance } }', as_=SITI
    )
    assert top_up.get("errors") is None
    # Replays change nothing: not in the ledger, not in the metrics.
    await buy(gql, SITI, METERS[0].number, 100000, "metrics-1")
    await gql('mutation { topUpWallet(amount: "250000", paymentReference: "metrics-pay-1") { balance } }', as_=SITI)

    after = await scrape(gql)
    assert delta(after, before, PURCHASES, "PENDING") == 1
    assert delta(after, before, PURCHASES, "SUCCESS") == 1
    assert delta(after, before, PURCHASES, "FAILED") == 0
    assert delta(after, before, LEDGER, "PURCHASE_DEBIT") == Decimal(purchase["totalPaid"]) == Decimal("102500")
    assert delta(after, before, LEDGER, "DEV_TOPUP") == Decimal("250000")  # a development top-up: no payment
    # The counters agree with the ledger the customer sees.
    entries = await ledger(gql, SITI)
    assert -sum(Decimal(e["amount"]) for e in entries if e["kind"] == "PURCHASE_DEBIT") == delta(
        after, before, LEDGER, "PURCHASE_DEBIT"
    )


async def test_failed_and_refunded_purchases_are_counted_with_their_refunds(
    gql: GraphQL, fake_biller: FakeBiller
) -> None:
    before = await scrape(gql)
    fake_biller.mode = "fail"
    failed = (await buy(gql, BUDI, METERS[1].number, 50000, "metrics-f"))["data"]["purchaseToken"]
    assert failed["status"] == "FAILED"
    fake_biller.mode = "success"
    sold = (await buy(gql, BUDI, METERS[1].number, 20000, "metrics-s"))["data"]["purchaseToken"]
    refund = "mutation($id: ID!) { refundPurchase(id: $id) { status } }"
    assert (await gql(refund, {"id": sold["id"]}, as_=ADMIN.id))["data"]["refundPurchase"]["status"] == "REFUNDED"
    second = await gql(refund, {"id": sold["id"]}, as_=ADMIN.id)  # refused: counts nothing
    assert second.get("errors")

    after = await scrape(gql)
    assert delta(after, before, PURCHASES, "PENDING") == 2
    assert delta(after, before, PURCHASES, "FAILED") == 1
    assert delta(after, before, PURCHASES, "SUCCESS") == 1
    assert delta(after, before, PURCHASES, "REFUNDED") == 1
    paid = Decimal(failed["totalPaid"]) + Decimal(sold["totalPaid"])
    assert delta(after, before, LEDGER, "PURCHASE_DEBIT") == paid
    assert delta(after, before, LEDGER, "REFUND_CREDIT") == paid


async def test_a_purchase_the_biller_claims_to_hold_already_is_flagged_for_review(
    gql: GraphQL, fake_biller: FakeBiller
) -> None:
    """The biller answers 409 DUPLICATE_REFERENCE for our fresh channel reference: we never guess, the purchase
    goes to REVIEW (its money held, nothing sold twice) and operators get a counter to alert on."""
    review = ("setrum_purchases_needing_review_total", "BILLER_DUPLICATE_REFERENCE")
    before = await scrape_reasons(gql)
    assert review in before
    fake_biller.mode = "duplicate_reference"
    purchase = (await buy(gql, SITI, METERS[0].number, 20000, "review-1"))["data"]["purchaseToken"]
    assert purchase["status"] == "REVIEW" and purchase["token"] is None
    after = await scrape_reasons(gql)
    assert after[review] - before[review] == 1
    # A replay answers the stored purchase and flags nothing again.
    await buy(gql, SITI, METERS[0].number, 20000, "review-1")
    assert (await scrape_reasons(gql))[review] == after[review]


async def scrape_reasons(gql: GraphQL) -> dict[tuple[str, str], Decimal]:
    response = await gql.http.get("/metrics")
    return {
        (sample.name, sample.labels.get("reason", "")): Decimal(str(sample.value))
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "setrum_purchases_needing_review_total"
    }


def _round_trips(text: str) -> tuple[float, float]:
    """(db_statements_total, db_transactions_total) from a /metrics page."""
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in ("db_statements_total", "db_transactions_total")
    }
    return values["db_statements_total"], values["db_transactions_total"]


async def test_database_round_trips_are_counted(app: Starlette, gql: GraphQL) -> None:
    """Every statement the service sends is counted (the bench divides it by requests to show no N+1),
    and so is every transaction opened with its own BEGIN."""
    from sqlalchemy import event

    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    statements0, transactions0 = _round_trips((await gql.http.get("/metrics")).text)
    event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert (await buy(gql, SITI, METERS[0].number, 100000, "metrics-trips"))["data"]["purchaseToken"]["id"]
    finally:
        event.remove(app.state.db.engine.sync_engine, "before_cursor_execute", seen)
    statements1, transactions1 = _round_trips((await gql.http.get("/metrics")).text)
    assert statements1 - statements0 == len(sent) > 0
    assert transactions1 - transactions0 >= 1  # the booking: the purchase, its kWh and the debit together


async def test_the_overload_limit_is_exposed_with_the_purchase_baseline(gql: GraphQL) -> None:
    """An operator watching a storm sees where the concurrency limit settled and what a purchase takes
    without a queue, not only that requests were refused."""
    await buy(gql, SITI, METERS[0].number, 100000, "metrics-limit-1")
    response = await gql.http.get("/metrics")
    values = {
        (sample.name, sample.labels.get("kind", "")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("setrum_overload_")
    }
    assert values[("setrum_overload_limit", "")] >= 2
    assert values[("setrum_overload_in_flight", "")] == 0  # the scrape itself holds no slot
    assert values[("setrum_overload_waiting", "")] == 0
    assert values[("setrum_overload_refused_total", "")] == 0
    assert 0 < values[("setrum_overload_baseline_seconds", "purchaseToken")] < 5


async def test_each_read_operation_has_its_own_baseline_on_metrics(gql: GraphQL) -> None:
    """A read is learnt as its operation (``read <name> <crc32 of its document>``), so a heavy read is
    not compared with a cheap one (docs/overload.md, step 2); the operator sees each on /metrics."""
    await ledger(gql, SITI)
    assert "errors" not in await gql("query MyTopUps { topUps(first: 1) { id } }", as_=SITI)
    response = await gql.http.get("/metrics")
    kinds = [
        sample.labels["kind"].split()
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "setrum_overload_baseline_seconds"
    ]
    reads = {kind[1] for kind in kinds if kind[0] == "read"}
    assert "MyTopUps" in reads and len(reads) == 2, kinds  # the wallet read is the other
