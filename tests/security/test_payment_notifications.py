"""Issue 11: wallet money comes only from payments. Forged, replayed, tampered, late and mismatched
payment notifications are refused with their own code and counted; repeats credit once."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson

from setrum_common.demo_data import ADMIN
from setrum_common.payment_signing import NOTIFICATION_SIGNATURE_HEADER, canonical_body
from tests.payments.conftest import Pair, notification
from tests.transactions.conftest import BUDI, SITI

TOP_UP_INTENT = "query($id: ID!) { topUp(id: $id) { id status } }"


async def _open(pair: Pair, customer: str = SITI, amount: int = 100_000) -> tuple[dict[str, object], str]:
    """A top-up and its provider intent id (what a real notification names)."""
    top_up = await pair.create(customer, amount)
    async with pair.transactions.state.db.session() as session:
        from subgraphs.transactions.models import TopUp

        row = await session.get(TopUp, top_up["id"])
        assert row is not None and row.provider_intent_id is not None
        return top_up, row.provider_intent_id


async def test_each_bad_notification_is_refused_with_its_own_code_and_counted(pair: Pair) -> None:
    top_up, intent = await _open(pair)
    top_up_id, amount = str(top_up["id"]), "100000"
    before = await pair.balance(SITI)
    good = notification(top_up_id, intent, amount, payment_id="pay_forged_1")
    cases = [
        # (what an attacker or a broken sender does, status, code, metric reason)
        ("unsigned", None, 401, "UNSIGNED", "unsigned"),
        (
            "wrong secret",
            {"secret": "not-the-provider-secret-but-long-enough-0123"},
            401,
            "BAD_SIGNATURE",
            "bad_signature",
        ),
        (
            "tampered amount",
            {"body": canonical_body({**good, "amount": "9000000"})},
            401,
            "BAD_SIGNATURE",
            "bad_signature",
        ),
        ("stale", {"timestamp": int(time.time()) - 3600}, 401, "STALE_SIGNATURE", "stale"),
    ]
    for name, kwargs, status, code, _ in cases:
        if kwargs is None:
            response = await pair.tx_http.post("/internal/payments/notify", content=canonical_body(good))
        else:
            response = await pair.notify(good, **kwargs)
        assert (response.status_code, response.json()["code"]) == (status, code), name

    expired_at = datetime.now(UTC) + timedelta(days=2)
    signed_but_wrong = [
        (notification("no-such-top-up", intent, amount, payment_id="pay_x1"), 404, "UNKNOWN_INTENT", "unknown_intent"),
        (
            notification(top_up_id, "pi_someone_else", amount, payment_id="pay_x2"),
            404,
            "UNKNOWN_INTENT",
            "unknown_intent",
        ),
        (notification(top_up_id, intent, "1000000", payment_id="pay_x3"), 422, "AMOUNT_MISMATCH", "amount_mismatch"),
        (
            notification(top_up_id, intent, amount, payment_id="pay_x4", paid_at=expired_at),
            410,
            "INTENT_EXPIRED",
            "expired",
        ),
        ({**good, "amount": "-5"}, 400, "MALFORMED", "malformed"),
        ({**good, "type": "payment.refunded"}, 400, "MALFORMED", "malformed"),
    ]
    for payload, status, code, _ in signed_but_wrong:
        response = await pair.notify(payload)
        assert (response.status_code, response.json()["code"]) == (status, code), payload

    assert (await pair.notify(good)).json() == {"status": "CREDITED"}
    replay = await pair.notify(good)  # the very same delivery again
    assert (replay.status_code, replay.json()["code"]) == (409, "REPLAYED")
    assert Decimal(await pair.balance(SITI)) == Decimal(before) + 100_000

    counted = await pair.refused()
    assert counted["unsigned"] == 1 and counted["bad_signature"] == 2 and counted["stale"] == 1
    assert counted["unknown_intent"] == 2 and counted["amount_mismatch"] == 1 and counted["expired"] == 1
    assert counted["malformed"] == 2 and counted["replayed"] == 1


async def test_a_notification_for_a_cancelled_top_up_is_refused(pair: Pair) -> None:
    top_up, intent = await _open(pair)
    await pair.gql("mutation($id: ID!) { cancelTopUp(id: $id) { status } }", {"id": top_up["id"]}, as_=SITI)
    before = await pair.balance(SITI)
    late = await pair.notify(notification(str(top_up["id"]), intent, "100000", payment_id="pay_after_cancel"))
    assert (late.status_code, late.json()["code"]) == (409, "INTENT_CANCELLED")
    assert await pair.balance(SITI) == before
    assert (await pair.refused())["cancelled"] == 1


async def test_a_second_payment_for_a_paid_top_up_is_refused(pair: Pair) -> None:
    top_up, intent = await _open(pair)
    assert (await pair.notify(notification(str(top_up["id"]), intent, "100000", payment_id="pay_a"))).status_code == 200
    other = await pair.notify(notification(str(top_up["id"]), intent, "100000", payment_id="pay_b"))
    assert (other.status_code, other.json()["code"]) == (409, "ALREADY_PAID")


async def test_fifty_concurrent_repeats_of_one_payment_credit_once(pair: Pair) -> None:
    top_up, intent = await _open(pair, BUDI, 250_000)
    before = Decimal(await pair.balance(BUDI))
    payment_id = "pay_" + uuid.uuid4().hex

    # the provider's retries: each a fresh delivery of the same payment; one the overload limit turns
    # away (503 OVERLOADED) is delivered again, as the provider does
    async def deliver() -> str:
        while True:
            answer = await pair.notify(notification(str(top_up["id"]), intent, "250000", payment_id=payment_id))
            if answer.status_code != 503:
                return str(orjson.loads(answer.content).get("status") or answer.text)
            await asyncio.sleep(0.05)

    statuses = await asyncio.gather(*(deliver() for _ in range(50)))
    assert statuses.count("CREDITED") == 1 and statuses.count("ALREADY_CREDITED") == 49, statuses
    assert Decimal(await pair.balance(BUDI)) == before + 250_000
    entries = (await pair.gql("{ wallet { entries(first: 60) { nodes { kind } } } }", as_=BUDI))["data"]
    assert [e["kind"] for e in entries["wallet"]["entries"]["nodes"]].count("TOPUP") == 1
    report = await pair.gql("{ walletReconciliation { ok } }", as_=ADMIN.id)
    assert report["data"]["walletReconciliation"]["ok"] is True
    assert (await pair.gql(TOP_UP_INTENT, {"id": top_up["id"]}, as_=BUDI))["data"]["topUp"]["status"] == "PAID"


async def test_the_signature_header_is_the_only_way_in(pair: Pair) -> None:
    top_up, intent = await _open(pair)
    body = canonical_body(notification(str(top_up["id"]), intent, "100000", payment_id="pay_h"))
    for header in ("", "t=1", "v1=abc", "t=x,v1=y", f"t={int(time.time())},v1=" + "0" * 64):
        response = await pair.tx_http.post(
            "/internal/payments/notify", content=body, headers={NOTIFICATION_SIGNATURE_HEADER: header}
        )
        assert response.status_code == 401, header
