"""Top-ups through the payment provider: instructions, paying, expiry, cancelling, retried notifications."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from payments.qris import parse_fields
from setrum_common.demo_data import ADMIN
from setrum_common.settings import DEV_PAYMENTS_SECRET
from setrum_common.signing import SIGNATURE_HEADER, sign_request
from tests.transactions.conftest import BUDI, SITI, error_code

from .conftest import CREATE, READ, Pair

LEDGER = "{ wallet { entries(first: 5) { nodes { kind amount reference } } } }"
RECONCILE = "{ walletReconciliation { ok paymentMismatches { reference problem } } }"


async def test_a_virtual_account_top_up_is_credited_once_when_paid(pair: Pair) -> None:
    before = Decimal(await pair.balance(SITI))
    top_up = await pair.create(SITI, 150_000)
    assert top_up["status"] == "PENDING" and top_up["method"] == "VIRTUAL_ACCOUNT"
    assert top_up["bankCode"] == "BCA" and top_up["bankName"] == "Bank Central Asia"
    assert top_up["vaNumber"].isdigit() and len(top_up["vaNumber"]) == 16 and top_up["expiresAt"]

    paid = await pair.pay(top_up["vaNumber"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["payment"]["notifyState"] == "DELIVERED"
    read = (await pair.gql(READ, {"id": top_up["id"]}, as_=SITI))["data"]["topUp"]
    assert read["status"] == "PAID" and read["paidAt"]
    assert Decimal(await pair.balance(SITI)) == before + 150_000

    again = await pair.pay(top_up["vaNumber"])  # the bank refuses a second transfer to a paid bill
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_PAID"
    entries = (await pair.gql(LEDGER, as_=SITI))["data"]["wallet"]["entries"]["nodes"]
    assert [e["kind"] for e in entries].count("TOPUP") == 1
    report = (await pair.gql(RECONCILE, as_=ADMIN.id))["data"]["walletReconciliation"]
    assert report == {"ok": True, "paymentMismatches": []}


async def test_a_qris_top_up_carries_a_valid_dynamic_emvco_payload(pair: Pair) -> None:
    top_up = await pair.create(BUDI, 75_000, "QRIS")
    fields = parse_fields(top_up["qrisPayload"])  # checks the CRC too
    assert fields["00"] == "01" and fields["01"] == "12"  # dynamic: one payment of this amount
    assert fields["53"] == "360" and fields["54"] == "75000" and fields["58"] == "ID"
    assert top_up["vaNumber"] is None and top_up["bankCode"] is None
    before = Decimal(await pair.balance(BUDI))
    paid = await pair.pay(top_up["qrisPayload"])  # the payer's app scans the code
    assert paid.status_code == 200, paid.text
    assert Decimal(await pair.balance(BUDI)) == before + 75_000


async def test_a_cancelled_top_up_cannot_be_paid(pair: Pair) -> None:
    top_up = await pair.create(SITI)
    cancelled = await pair.gql("mutation($id: ID!) { cancelTopUp(id: $id) { status } }", {"id": top_up["id"]}, as_=SITI)
    assert cancelled["data"]["cancelTopUp"]["status"] == "CANCELLED"
    before = await pair.balance(SITI)
    refused = await pair.pay(top_up["vaNumber"])
    assert refused.status_code == 409 and refused.json()["code"] == "INTENT_CANCELLED"
    assert await pair.balance(SITI) == before
    # another customer cannot cancel (or see) it
    other = await pair.gql("mutation($id: ID!) { cancelTopUp(id: $id) { status } }", {"id": top_up["id"]}, as_=BUDI)
    assert error_code(other) == "NOT_FOUND"


async def test_a_paid_top_up_cannot_be_cancelled(pair: Pair) -> None:
    top_up = await pair.create(SITI)
    assert (await pair.pay(top_up["vaNumber"])).status_code == 200
    body = await pair.gql("mutation($id: ID!) { cancelTopUp(id: $id) { status } }", {"id": top_up["id"]}, as_=SITI)
    assert error_code(body) == "TOP_UP_ALREADY_PAID"


async def test_an_expired_top_up_cannot_be_paid(pair: Pair) -> None:
    top_up = await pair.create(SITI, 50_000, "QRIS")  # QRIS codes live 15 minutes
    pair.clock.offset = timedelta(minutes=16)
    before = await pair.balance(SITI)
    refused = await pair.pay(top_up["qrisPayload"])
    assert refused.status_code == 410 and refused.json()["code"] == "INTENT_EXPIRED"
    assert await pair.balance(SITI) == before


async def test_a_payment_transactions_refuses_is_marked_for_refund_by_the_provider(pair: Pair) -> None:
    # An intent transactions never asked for (a merchant reference it does not know), paid at the provider.
    body = orjson.dumps({"merchantReference": "not-ours-1", "amount": "20000", "method": "VIRTUAL_ACCOUNT"})
    signature = sign_request(DEV_PAYMENTS_SECRET, "POST", "/v1/intents", body)
    opened = await pair.provider_http.post("/v1/intents", content=body, headers={SIGNATURE_HEADER: signature})
    assert opened.status_code == 200, opened.text
    paid = await pair.pay(opened.json()["vaNumber"])
    payment = paid.json()["payment"]
    assert payment["notifyState"] == "REFUND" and "UNKNOWN_INTENT" in payment["lastAnswer"]
    assert (await pair.refused())["unknown_intent"] == 1


async def test_the_merchant_api_needs_the_provider_secret(pair: Pair) -> None:
    body = orjson.dumps({"merchantReference": "x-1", "amount": "20000", "method": "QRIS"})
    unsigned = await pair.provider_http.post("/v1/intents", content=body)
    assert unsigned.status_code == 401
    forged = sign_request("another-secret-of-at-least-32-characters", "POST", "/v1/intents", body)
    wrong = await pair.provider_http.post("/v1/intents", content=body, headers={SIGNATURE_HEADER: forged})
    assert wrong.status_code == 401
    signed = {SIGNATURE_HEADER: sign_request(DEV_PAYMENTS_SECRET, "POST", "/v1/intents", body)}
    assert (await pair.provider_http.post("/v1/intents", content=body, headers=signed)).status_code == 200
    replayed = await pair.provider_http.post("/v1/intents", content=body, headers=signed)
    assert replayed.status_code == 401 and "replay" in replayed.text.lower()
    tampered = body.replace(b"20000", b"90000")
    assert (await pair.provider_http.post("/v1/intents", content=tampered, headers=signed)).status_code == 401


async def test_a_body_that_is_not_a_json_object_is_400(pair: Pair) -> None:
    for body, message in ((b"not json", "the body is not JSON"), (b"[1]", "the body must be a JSON object")):
        signed = {SIGNATURE_HEADER: sign_request(DEV_PAYMENTS_SECRET, "POST", "/v1/intents", body)}
        merchant = await pair.provider_http.post("/v1/intents", content=body, headers=signed)
        assert (merchant.status_code, merchant.json()) == (400, {"code": "BAD_REQUEST", "message": message})
        payer = await pair.provider_http.post("/v1/simulator/pay", content=body)
        assert (payer.status_code, payer.json()) == (400, {"code": "BAD_REQUEST", "message": message})


async def test_notifications_are_retried_until_transactions_takes_them(pair: Pair) -> None:
    """Transactions down (503) when the customer pays: the provider keeps the notification and delivers it later."""
    top_up = await pair.create(SITI, 30_000)
    before = Decimal(await pair.balance(SITI))
    notifier_transport = pair.to_transactions
    transactions = notifier_transport.app

    async def down(_: Request) -> Response:
        return Response(b"", 503)

    notifier_transport.app = Starlette(routes=[Route("/internal/payments/notify", down, methods=["POST"])])
    paid = await pair.pay(top_up["vaNumber"])
    assert paid.json()["payment"]["notifyState"] == "PENDING" and paid.json()["payment"]["attempts"] >= 1
    assert Decimal(await pair.balance(SITI)) == before

    notifier_transport.app = transactions  # transactions is back
    for _ in range(50):
        if Decimal(await pair.balance(SITI)) == before + 30_000:
            break
        await asyncio.sleep(0.2)
    assert Decimal(await pair.balance(SITI)) == before + 30_000
    state = await pair.intent(paid.json()["id"])
    assert state["payment"]["notifyState"] == "DELIVERED"


async def test_top_ups_are_listed_for_their_owner_only(pair: Pair) -> None:
    first = await pair.create(SITI, 20_000)
    second = await pair.create(SITI, 30_000, "QRIS")
    listed = (await pair.gql("{ topUps { id amount } }", as_=SITI))["data"]["topUps"]
    assert [t["id"] for t in listed][:2] == [second["id"], first["id"]]
    assert (await pair.gql(READ, {"id": first["id"]}, as_=BUDI))["data"]["topUp"] is None
    assert (await pair.gql(READ, {"id": first["id"]}, as_=ADMIN.id))["data"]["topUp"]["id"] == first["id"]


async def test_bad_top_up_requests_get_clear_codes(pair: Pair) -> None:
    small = await pair.gql(CREATE, {"amount": "5000", "method": "QRIS"}, as_=SITI)
    assert error_code(small) == "AMOUNT_OUT_OF_RANGE"
    cents = await pair.gql(CREATE, {"amount": "20000.5", "method": "QRIS"}, as_=SITI)
    assert error_code(cents) == "AMOUNT_NOT_WHOLE_RUPIAH"
    bank = await pair.gql(CREATE, {"amount": "20000", "method": "VIRTUAL_ACCOUNT", "bank": "NOPE"}, as_=SITI)
    assert error_code(bank) == "BAD_USER_INPUT"
    anonymous = await pair.gql(CREATE, {"amount": "20000", "method": "QRIS"})
    assert error_code(anonymous) == "UNAUTHENTICATED"


async def test_the_provider_being_down_is_a_clear_error(pair: Pair) -> None:
    provider = pair.to_provider.app
    pair.to_provider.app = Starlette(routes=[])  # answers 404 without JSON: no provider there
    body = await pair.gql(CREATE, {"amount": "20000", "method": "QRIS"}, as_=SITI)
    assert error_code(body) == "PAYMENT_PROVIDER_UNAVAILABLE"
    pair.to_provider.app = provider
    listed = (await pair.gql("{ topUps { status } }", as_=SITI))["data"]["topUps"]
    assert listed == [{"status": "FAILED"}]
