"""The purchase journey through the router, against the five real processes (docs/domain.md §Purchase flow)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from decimal import Decimal

import pytest

from setrum.launcher import REPO_ROOT
from setrum_common.demo_data import DEMO_PASSWORD, METERS

from .conftest import Api, error_codes

SIGN_UP = """
mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token customer { id email } } }
"""
TOP_UP = """
mutation TopUp($amount: Decimal!, $ref: String!) { topUpWallet(amount: $amount, paymentReference: $ref) { balance } }
"""
BUY = """
mutation Buy($meter: String!, $denomination: Decimal!, $ref: String!) {
  purchaseToken(meterNumber: $meter, denomination: $denomination, clientReference: $ref) {
    id status token kwh nominal adminFee ppj ppn stampDuty instalment energyValue totalPaid
    holderName idpel meterNumber tariffCode powerVa clientReference billerReference
    meter { number holderName tariff { code rate } }
    customer { id email }
  }
}
"""
WALLET = "query { wallet { balance } }"


def active_meter(index_from: int = 2, **facts: object) -> str:
    for meter in METERS[index_from:]:
        if (
            meter.status == "ACTIVE"
            and meter.sts_base_date == 2014
            and all(getattr(meter, k) == v for k, v in facts.items())
        ):
            return meter.number
    raise LookupError(facts)


def sign_up(api: Api, balance: int = 0) -> tuple[str, str]:
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.id"
    data = api.data(SIGN_UP, {"input": {"name": "Tester E2E", "email": email, "password": "kWh-token-2026!"}})
    token, customer_id = data["signUp"]["token"], data["signUp"]["customer"]["id"]
    if balance:
        api.data(TOP_UP, {"amount": str(balance), "ref": f"pay-{uuid.uuid4().hex}"}, token)
    return token, customer_id


def balance(api: Api, token: str) -> Decimal:
    return Decimal(api.data(WALLET, token=token)["wallet"]["balance"])


def buy(api: Api, token: str, meter: str, denomination: int, ref: str | None = None) -> dict:
    return api(BUY, {"meter": meter, "denomination": str(denomination), "ref": ref or uuid.uuid4().hex}, token)


def test_sign_in_with_the_demo_account(api: Api) -> None:
    data = api.data(
        'mutation($p: String!) { signIn(email: "siti@example.id", password: $p) { token customer { name role } } }',
        {"p": DEMO_PASSWORD},
    )
    assert data["signIn"]["customer"] == {"name": "Siti Rahmawati", "role": "CUSTOMER"}
    body = api('mutation { signIn(email: "siti@example.id", password: "wrong-password") { token } }')
    assert error_codes(body) == ["INVALID_CREDENTIALS"]


def test_inquiry_and_quote_match_the_receipt_formula(api: Api) -> None:
    inquiry = api.data('{ inquiry(number: "14233784991") { holderName idpel tariffCode powerVa region { name } } }')
    assert inquiry["inquiry"] == {
        "holderName": "Siti Rahmawati",
        "idpel": "543400893197",
        "tariffCode": "R1",
        "powerVa": 1300,
        "region": {"name": "DKI Jakarta"},
    }
    by_idpel = api.data('{ inquiry(number: "543400893197") { meterNumber } }')
    assert by_idpel["inquiry"]["meterNumber"] == "14233784991"
    quote = api.data('{ quote(meterNumber: "14233784991", denomination: "100000") { energyValue ppj ppn kwh } }')[
        "quote"
    ]
    # docs/domain.md §Price and kWh worked example: R-1/1,300 VA, Jakarta 2.4 %, Rp 100,000.
    assert Decimal(quote["energyValue"]) == Decimal("97656.25")
    assert Decimal(quote["ppj"]) == Decimal("2343.75")
    assert Decimal(quote["ppn"]) == 0
    assert Decimal(quote["kwh"]) == Decimal("67.5")


def test_inquiry_errors(api: Api) -> None:
    assert error_codes(api('{ inquiry(number: "1423378499") { holderName } }')) == ["WRONG_DIGIT_COUNT"]
    assert error_codes(api('{ inquiry(number: "99999999990") { holderName } }')) == ["WRONG_CUSTOMER_NUMBER"]
    blocked = next(m.number for m in METERS if m.status == "BLOCKED")
    assert error_codes(api(f'{{ inquiry(number: "{blocked}") {{ holderName }} }}')) == ["CUSTOMER_BLOCKED"]


def test_buy_a_token_and_replay_the_reference(api: Api) -> None:
    token, customer_id = sign_up(api, balance=500_000)
    ref = f"order-{uuid.uuid4().hex[:8]}"
    body = buy(api, token, "14233784991", 100_000, ref)
    assert not body.get("errors"), body
    purchase = body["data"]["purchaseToken"]
    assert purchase["status"] == "SUCCESS"
    assert len(purchase["token"]) == 20 and purchase["token"].isdigit()
    assert Decimal(purchase["kwh"]) == Decimal("67.5")
    assert Decimal(purchase["totalPaid"]) == Decimal(purchase["nominal"]) + Decimal(purchase["adminFee"])
    parts = ("energyValue", "ppj", "ppn", "stampDuty", "instalment")
    assert sum(Decimal(purchase[p]) for p in parts) == Decimal(purchase["nominal"])
    # Entity references resolved by their owners (master, users) through the router.
    assert purchase["meter"]["holderName"] == "Siti Rahmawati"
    assert purchase["meter"]["tariff"]["code"] == "R1"
    assert purchase["customer"]["id"] == customer_id
    after_first = balance(api, token)
    assert after_first == Decimal(500_000) - Decimal(purchase["totalPaid"])

    replay = buy(api, token, "14233784991", 100_000, ref)["data"]["purchaseToken"]
    assert (replay["id"], replay["token"]) == (purchase["id"], purchase["token"])
    assert balance(api, token) == after_first  # charged once

    reprint = api.data("mutation($id: ID!) { reprintToken(id: $id) { token } }", {"id": purchase["id"]}, token)[
        "reprintToken"
    ]
    assert reprint["token"] == purchase["token"]

    mismatch = buy(api, token, "14233784991", 50_000, ref)
    assert error_codes(mismatch) == ["DUPLICATE_REFERENCE"]


def test_the_token_is_a_real_sts_token_for_that_meter(api: Api, system) -> None:
    token, _ = sign_up(api, balance=300_000)
    meter = active_meter(tariff_code="R1", power_va=2200)
    purchase = buy(api, token, meter, 50_000)["data"]["purchaseToken"]
    assert purchase["status"] == "SUCCESS"
    biller_db = system.spec("biller").env["BILLER_DATABASE_URL"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "setrum.cli",
            "token",
            "inspect",
            "--meter",
            meter,
            "--database-url",
            biller_db,
            purchase["token"],
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert purchase["kwh"] in result.stdout


def test_biller_pending_then_success_is_resolved_with_the_same_reference(api: Api) -> None:
    token, _ = sign_up(api, balance=300_000)
    meter = active_meter(index_from=20)
    assert (
        api.biller(
            "PUT", "/v1/faults", {"mode": "pending_then_success", "meterNumber": meter, "pendingPolls": 1}
        ).status_code
        < 300
    )
    try:
        first = buy(api, token, meter, 20_000)["data"]["purchaseToken"]
        assert first["status"] == "PENDING" and first["token"] is None
        charged = balance(api, token)
        status = first["status"]
        for _ in range(5):
            refreshed = api.data(
                "mutation($id: ID!) { refreshPurchase(id: $id) { status token } }", {"id": first["id"]}, token
            )["refreshPurchase"]
            status = refreshed["status"]
            if status != "PENDING":
                break
        assert status == "SUCCESS" and len(refreshed["token"]) == 20
        assert balance(api, token) == charged  # no second charge
    finally:
        api.biller("DELETE", "/v1/faults")


def test_biller_failure_refunds_the_wallet(api: Api) -> None:
    token, _ = sign_up(api, balance=300_000)
    meter = active_meter(index_from=25)
    api.biller("PUT", "/v1/faults", {"mode": "fail", "meterNumber": meter})
    try:
        purchase = buy(api, token, meter, 50_000)["data"]["purchaseToken"]
    finally:
        api.biller("DELETE", "/v1/faults")
    assert purchase["status"] == "FAILED" and purchase["token"] is None
    assert balance(api, token) == Decimal(300_000)
    entries = api.data("query { wallet { entries(first: 10) { nodes { kind amount } } } }", token=token)
    kinds = sorted(e["kind"] for e in entries["wallet"]["entries"]["nodes"])
    assert kinds == ["DEV_TOPUP", "PURCHASE_DEBIT", "REFUND_CREDIT"]


def test_monthly_kwh_cap(api: Api) -> None:
    token, _ = sign_up(api, balance=1_000_000)
    meter = active_meter(tariff_code="R1", power_va=450)  # cap 324 kWh; Rp 200,000 buys ~470 kWh
    body = buy(api, token, meter, 200_000)
    assert error_codes(body) == ["KWH_LIMIT_EXCEEDED"]
    assert balance(api, token) == Decimal(1_000_000)


def test_blocked_meter_and_insufficient_balance(api: Api) -> None:
    token, _ = sign_up(api, balance=30_000)
    blocked = next(m.number for m in METERS if m.status == "BLOCKED")
    assert error_codes(buy(api, token, blocked, 20_000)) == ["CUSTOMER_BLOCKED"]
    assert error_codes(buy(api, token, "14233784991", 50_000)) == ["INSUFFICIENT_BALANCE"]
    assert balance(api, token) == Decimal(30_000)


def test_another_customers_purchase_is_refused(api: Api) -> None:
    alice, _ = sign_up(api, balance=100_000)
    bob, _ = sign_up(api)
    purchase = buy(api, alice, "14233784991", 20_000)["data"]["purchaseToken"]
    body = api("query($id: ID!) { purchase(id: $id) { token } }", {"id": purchase["id"]}, bob)
    assert error_codes(body) == ["FORBIDDEN"]
    assert (body.get("data") or {}).get("purchase") is None


@pytest.mark.parametrize("anonymous_query", ["{ wallet { balance } }", "{ me { purchases { nodes { id } } } }"])
def test_anonymous_callers_see_nothing_private(api: Api, anonymous_query: str) -> None:
    body = api(anonymous_query)
    assert body.get("errors") or body["data"]["me"] is None
