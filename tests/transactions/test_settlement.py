"""The settlement worker settles PENDING purchases without any client read, backs off, hands the
unsettled ones to an operator (REVIEW) and never sells twice, with two replicas on one database.

Reads here never refresh a purchase (``pending_refresh_after_s=0``), so only the worker can settle it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from setrum_common.demo_data import ADMIN, METERS
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import TransactionsSettings
from tests.postgres import requires_postgres, scratch_database

from .conftest import BUDI, SITI, GraphQL, error_code, token
from .fakes import FakeBiller, FakeMaster
from .helpers import BUY, PURCHASE_FIELDS, balance, buy

PURCHASE = f"query($id: ID!) {{ purchase(id: $id) {{ {PURCHASE_FIELDS} }} }}"
IN_REVIEW = "{ purchasesInReview { id status } }"
SETTLE = f"""mutation($id: ID!, $refund: Boolean!) {{
  settlePurchase(id: $id, refundIfUnsold: $refund) {{ {PURCHASE_FIELDS} }}
}}"""
FAST = {"settle_interval_s": 0.05, "settle_first_after_s": 0.1, "settle_backoff_max_s": 15.0}

Open = Callable[..., Awaitable[GraphQL]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=requires_postgres)])
async def open_app(
    request: pytest.FixtureRequest, settings: TransactionsSettings, fake_master: FakeMaster, fake_biller: FakeBiller
) -> AsyncIterator[Open]:
    """Start a transactions app (a replica) on the test database with some settings changed; every
    test runs on SQLite and, when SETRUM_TEST_POSTGRES_URL is set, on PostgreSQL."""
    async with AsyncExitStack() as stack:
        if request.param == "postgres":
            url = await stack.enter_async_context(scratch_database("setrum_settle"))
            settings = settings.model_copy(update={"database_url": url})

        async def open_(biller_delay_s: float = 0.0, **changes: Any) -> GraphQL:
            async def slow_biller(request: httpx.Request) -> httpx.Response:
                await asyncio.sleep(biller_delay_s)
                return await fake_biller.handle(request)

            app: Starlette = create_app(
                settings.model_copy(update=changes),
                master_transport=httpx.MockTransport(fake_master.handle),
                biller_transport=httpx.MockTransport(slow_biller),
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
            )
            return GraphQL(http)

        yield open_


async def _status_becomes(gql: GraphQL, purchase_id: str, wanted: str, within_s: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        purchase = (await gql(PURCHASE, {"id": purchase_id}, as_=ADMIN.id))["data"]["purchase"]
        if purchase["status"] == wanted or time.monotonic() > deadline:
            assert purchase["status"] == wanted, purchase
            return purchase
        await asyncio.sleep(0.05)


async def _metric(gql: GraphQL, name: str, **labels: str) -> float:
    text = (await gql.http.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"no sample {name} {labels}")


async def test_a_sale_whose_answer_was_lost_is_settled_without_a_read(open_app: Open, fake_biller: FakeBiller) -> None:
    gql = await open_app(**FAST)
    fake_biller.mode = "timeout_after_sale"
    purchase = (await buy(gql, SITI, METERS[0].number, 20000, "lost-answer"))["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING" and purchase["token"] is None
    fake_biller.mode = "success"
    settled = await _status_becomes(gql, purchase["id"], "SUCCESS")
    assert settled["token"] == fake_biller.sales[purchase["channelReference"]].token
    assert fake_biller.tokens_issued == 1 and len(fake_biller.sales) == 1
    assert await _metric(gql, "setrum_purchases_settled_by_worker_total") == 1


async def test_a_sale_the_biller_never_received_is_sent_again_by_the_worker(
    open_app: Open, fake_biller: FakeBiller
) -> None:
    gql = await open_app(**FAST)
    fake_biller.mode = "timeout"  # the request is lost before the biller records anything
    purchase = (await buy(gql, BUDI, METERS[1].number, 50000, "never-received"))["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING" and not fake_biller.sales
    fake_biller.mode = "success"
    settled = await _status_becomes(gql, purchase["id"], "SUCCESS")
    assert settled["token"] and fake_biller.tokens_issued == 1


async def test_tries_back_off_then_an_unsettled_purchase_goes_to_review(
    open_app: Open, fake_biller: FakeBiller
) -> None:
    gql = await open_app(**{**FAST, "review_after_s": 2.5})
    before = await _metric(gql, "setrum_purchases_needing_review_total", reason="UNSETTLED")
    fake_biller.mode = "pending_forever"
    start_balance = await balance(gql, SITI)
    purchase = (await buy(gql, SITI, METERS[0].number, 20000, "stuck"))["data"]["purchaseToken"]
    gets_before = fake_biller.gets
    await _status_becomes(gql, purchase["id"], "REVIEW", within_s=6)
    # 50 ms rounds for 2.5 s would be ~50 tries; the backoff (1, 2 s …) allows a handful.
    assert 1 <= fake_biller.gets - gets_before <= 4
    assert await _metric(gql, "setrum_purchases_needing_review_total", reason="UNSETTLED") == before + 1
    listed = (await gql(IN_REVIEW, as_=ADMIN.id))["data"]["purchasesInReview"]
    assert [p["id"] for p in listed] == [purchase["id"]]
    assert await _metric(gql, "setrum_purchases_in_review") == 1
    assert error_code(await gql(IN_REVIEW, as_=SITI)) == "FORBIDDEN"
    # The money stays held while in review.
    assert await balance(gql, SITI) == start_balance - Decimal(purchase["totalPaid"])

    # The biller settles its side; the operator settles ours with what the biller says.
    fake_biller.sales[purchase["channelReference"]].polls_left = 0
    assert error_code(await gql(SETTLE, {"id": purchase["id"], "refund": False}, as_=SITI)) == "FORBIDDEN"
    settled = (await gql(SETTLE, {"id": purchase["id"], "refund": False}, as_=ADMIN.id))["data"]["settlePurchase"]
    assert settled["status"] == "SUCCESS" and settled["token"] == fake_biller.sales[purchase["channelReference"]].token
    assert (await gql(IN_REVIEW, as_=ADMIN.id))["data"]["purchasesInReview"] == []
    again = await gql(SETTLE, {"id": purchase["id"], "refund": False}, as_=ADMIN.id)
    assert error_code(again) == "BAD_USER_INPUT"


async def test_an_unsold_purchase_in_review_is_refunded_by_hand(open_app: Open, fake_biller: FakeBiller) -> None:
    gql = await open_app(**{**FAST, "review_after_s": 0.5})
    fake_biller.mode = "timeout"  # every try is lost before the biller records it
    start_balance = await balance(gql, BUDI)
    purchase = (await buy(gql, BUDI, METERS[1].number, 20000, "unsold"))["data"]["purchaseToken"]
    await _status_becomes(gql, purchase["id"], "REVIEW")
    assert not fake_biller.sales
    fake_biller.mode = "success"
    refunded = (await gql(SETTLE, {"id": purchase["id"], "refund": True}, as_=ADMIN.id))["data"]["settlePurchase"]
    assert refunded["status"] == "FAILED" and refunded["failureCode"] == "NOT_SOLD"
    assert await balance(gql, BUDI) == start_balance
    assert not fake_biller.sales  # nothing was sold


async def test_two_replicas_settle_each_purchase_once(open_app: Open, fake_biller: FakeBiller) -> None:
    # The buyer settles nothing itself; its purchases fall due once both replicas are up.
    buyer = await open_app(**{**FAST, "settle_interval_s": 0, "settle_first_after_s": 4.0})
    fake_biller.mode = "timeout_after_sale"
    purchases = [
        (await buy(buyer, SITI if i % 2 else BUDI, METERS[i % 2].number, 20000, f"replica-{i}"))["data"][
            "purchaseToken"
        ]
        for i in range(12)
    ]
    assert {p["status"] for p in purchases} == {"PENDING"}
    fake_biller.mode = "success"
    gets_before = fake_biller.gets
    # Slow biller answers keep each round busy long enough for both replicas to claim at once.
    first = await open_app(biller_delay_s=0.1, **FAST, settle_batch=3)
    second = await open_app(biller_delay_s=0.1, **FAST, settle_batch=3)
    for purchase in purchases:
        await _status_becomes(first, purchase["id"], "SUCCESS", within_s=10)
    # One status question per purchase: the leases kept the replicas off each other's rows.
    assert fake_biller.gets - gets_before == len(purchases)
    assert fake_biller.tokens_issued == len(purchases)
    by_worker = [await _metric(g, "setrum_purchases_settled_by_worker_total") for g in (first, second)]
    assert sum(by_worker) == len(purchases) and min(by_worker) > 0


async def test_an_open_breaker_answers_pending_without_calling_the_biller(
    open_app: Open, fake_biller: FakeBiller
) -> None:
    gql = await open_app(settle_interval_s=0, biller_breaker_failures=3, biller_breaker_cooldown_s=60)
    fake_biller.mode = "timeout"
    for i in range(3):
        await buy(gql, SITI, METERS[0].number, 20000, f"down-{i}")
    posts = fake_biller.posts
    started = time.monotonic()
    purchase = (await buy(gql, SITI, METERS[0].number, 20000, "down-fast"))["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING" and purchase["id"]
    assert fake_biller.posts == posts and time.monotonic() - started < 1.0


async def test_replays_in_flight_wait_for_the_first_answer(open_app: Open, fake_biller: FakeBiller) -> None:
    """Replays that arrive while the first request still waits for the biller get its final answer."""
    gql = await open_app(biller_delay_s=0.5, settle_interval_s=0)
    answers = await asyncio.gather(*(buy(gql, SITI, METERS[0].number, 20000, "twice") for _ in range(8)))
    purchases = [a["data"]["purchaseToken"] for a in answers]
    assert {p["id"] for p in purchases} == {purchases[0]["id"]}
    assert {p["status"] for p in purchases} == {"SUCCESS"}
    assert {p["token"] for p in purchases} == {fake_biller.sales[purchases[0]["channelReference"]].token}
    assert fake_biller.posts == 1


async def test_replays_from_another_replica_wait_too(open_app: Open, fake_biller: FakeBiller) -> None:
    first = await open_app(biller_delay_s=0.6, settle_interval_s=0)
    other = await open_app(settle_interval_s=0)
    original = asyncio.create_task(buy(first, BUDI, METERS[1].number, 20000, "across"))
    await asyncio.sleep(0.3)  # booked, now waiting for the biller in the first replica
    replay = (await buy(other, BUDI, METERS[1].number, 20000, "across"))["data"]["purchaseToken"]
    assert replay["status"] == "SUCCESS" and replay == (await original)["data"]["purchaseToken"]


async def test_the_callers_deadline_bounds_the_biller_call_and_the_purchase_answers_pending(
    open_app: Open, fake_biller: FakeBiller
) -> None:
    """The biller hangs longer than the caller waits: the purchase still answers, with its id and PENDING,
    inside the caller's deadline (less our margin), and the worker settles it later."""
    gql = await open_app(biller_delay_s=5.0, deadline_margin_s=0.3, **FAST)
    variables = {"meter": METERS[0].number, "denomination": "20000", "ref": "hurry"}
    headers = {"authorization": f"Bearer {token(SITI)}", "x-setrum-deadline-ms": "1200"}
    started = time.monotonic()
    response = await gql.http.post("/graphql", json={"query": BUY, "variables": variables}, headers=headers)
    took = time.monotonic() - started
    purchase = response.json()["data"]["purchaseToken"]
    assert purchase["status"] == "PENDING" and purchase["id"]
    assert 0.7 < took < 2.5  # the biller would have taken 5 s
    await _status_becomes(gql, purchase["id"], "SUCCESS", within_s=10)
    assert fake_biller.tokens_issued == 1


async def test_over_its_concurrency_limit_the_service_refuses_reads_first(
    open_app: Open, fake_biller: FakeBiller
) -> None:
    """Two purchases hold the whole limit (2): with no queue, a wallet read is refused at once with
    503 + OVERLOADED, the purchases complete, and reads are admitted again afterwards. (With the
    default queue the read would wait for a slot, and be refused only when none frees up in 0.5 s.)"""
    gql = await open_app(
        biller_delay_s=1.5, settle_interval_s=0, overload_max_concurrency=2, overload_queue_timeout_s=0.0
    )
    buying = [asyncio.create_task(buy(gql, SITI, METERS[0].number, 20000, f"busy-{i}")) for i in range(2)]
    await asyncio.sleep(0.5)  # both booked and waiting for the (slow) biller
    started = time.monotonic()
    refused = await gql.http.post(
        "/graphql", json={"query": "{ wallet { balance } }"}, headers={"authorization": f"Bearer {token(SITI)}"}
    )
    assert time.monotonic() - started < 0.5
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
    assert {(await task)["data"]["purchaseToken"]["status"] for task in buying} == {"SUCCESS"}
    assert (await gql("{ wallet { balance } }", as_=SITI))["data"]["wallet"]["balance"]
