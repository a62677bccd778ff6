"""Wallet money from payments, through the real router and processes: a top-up intent, the provider's
pay command (or its /pay page), the signed notification, the credited wallet, a purchase with it."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

import httpx

from setrum.launcher import System

from .conftest import Api
from .test_purchase_flow import active_meter, balance, buy, sign_up

CREATE = """mutation($a: Decimal!, $m: TopUpMethod!, $b: String) {
  createTopUp(amount: $a, method: $m, bankCode: $b) { id status amount bankCode vaNumber qrisPayload expiresAt } }"""
READ = "query($id: ID!) { topUp(id: $id) { status paidAt } }"
ENTRIES = "{ wallet { entries(first: 10) { nodes { kind amount reference } } } }"


def _paid(api: Api, token: str, top_up_id: str, within_s: float = 20.0) -> dict:
    give_up = time.monotonic() + within_s
    while True:
        state = api.data(READ, {"id": top_up_id}, token)["topUp"]
        if state["status"] != "PENDING" or time.monotonic() > give_up:
            return state
        time.sleep(0.2)


def test_a_virtual_account_paid_with_the_pay_command_funds_a_purchase(api: Api, system: System) -> None:
    token, _ = sign_up(api)
    top_up = api.data(CREATE, {"a": "150000", "m": "VIRTUAL_ACCOUNT", "b": "BNI"}, token)["createTopUp"]
    assert top_up["status"] == "PENDING" and top_up["bankCode"] == "BNI" and len(top_up["vaNumber"]) == 16
    assert balance(api, token) == 0

    paid = subprocess.run(
        [sys.executable, "-m", "payments", "pay", top_up["vaNumber"], "--url", system.spec("payments").base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert paid.returncode == 0, paid.stderr
    assert "Rp 150000" in paid.stdout and "DELIVERED" in paid.stdout, paid.stdout
    assert _paid(api, token, top_up["id"])["status"] == "PAID"
    assert balance(api, token) == Decimal(150_000)

    again = subprocess.run(
        [sys.executable, "-m", "payments", "pay", top_up["vaNumber"], "--url", system.spec("payments").base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1 and "ALREADY_PAID" in again.stderr

    purchase = buy(api, token, active_meter(index_from=30), 100_000)["data"]["purchaseToken"]
    assert purchase["status"] == "SUCCESS" and purchase["token"]
    assert balance(api, token) == Decimal(150_000) - Decimal(purchase["totalPaid"])
    kinds = sorted(e["kind"] for e in api.data(ENTRIES, token=token)["wallet"]["entries"]["nodes"])
    assert kinds == ["PURCHASE_DEBIT", "TOPUP"]


def test_a_qris_code_paid_on_the_simulator_page(api: Api, system: System) -> None:
    token, _ = sign_up(api)
    top_up = api.data(CREATE, {"a": "50000", "m": "QRIS"}, token)["createTopUp"]
    assert top_up["qrisPayload"].startswith("000201010212")
    page = httpx.post(system.spec("payments").base_url + "/pay", data={"handle": top_up["qrisPayload"]}, timeout=30)
    assert page.status_code == 200 and "Paid Rp 50000" in page.text, page.text
    assert _paid(api, token, top_up["id"])["status"] == "PAID"
    assert balance(api, token) == Decimal(50_000)


def test_a_payment_made_while_transactions_is_down_is_credited_after_its_restart(api: Api, system: System) -> None:
    token, _ = sign_up(api)
    top_up = api.data(CREATE, {"a": "40000", "m": "VIRTUAL_ACCOUNT"}, token)["createTopUp"]
    system.stop(["transactions"])
    try:
        paid = httpx.post(
            system.spec("payments").base_url + "/v1/simulator/pay", json={"handle": top_up["vaNumber"]}, timeout=30
        )
        assert paid.status_code == 200 and paid.json()["payment"]["notifyState"] == "PENDING", paid.text
    finally:
        system.restart("transactions")
    assert _paid(api, token, top_up["id"], within_s=60)["status"] == "PAID"
    assert balance(api, token) == Decimal(40_000)


def test_cancelled_top_ups_cannot_be_paid(api: Api, system: System) -> None:
    token, _ = sign_up(api)
    top_up = api.data(CREATE, {"a": "25000", "m": "VIRTUAL_ACCOUNT"}, token)["createTopUp"]
    cancelled = api.data("mutation($id: ID!) { cancelTopUp(id: $id) { status } }", {"id": top_up["id"]}, token)
    assert cancelled["cancelTopUp"]["status"] == "CANCELLED"
    paid = httpx.post(
        system.spec("payments").base_url + "/v1/simulator/pay", json={"handle": top_up["vaNumber"]}, timeout=30
    )
    assert paid.status_code == 409 and paid.json()["code"] == "INTENT_CANCELLED"
    assert balance(api, token) == 0
