"""What the customer sees when things go wrong, and that nothing is ever bought twice.

Each error comes from the real system (biller faults, the monthly kWh cap, a blocked meter, the
sign-in throttle, an invalid session) except HTTP 429, which the router does not send yet: the
test answers one request with it to check the app's message.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from setrum_common.demo_data import METERS
from tests.e2e.conftest import Api

from .conftest import PURCHASES, WALLET, AppPage, new_customer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAY = re.compile("^Bayar dari saldo")


def _meter(**facts: object) -> str:
    for meter in METERS[2:]:
        if (
            meter.status == "ACTIVE"
            and meter.sts_base_date == 2014
            and all(getattr(meter, k) == v for k, v in facts.items())
        ):
            return meter.number
    raise LookupError(facts)


def _buy(app: AppPage, customer: dict[str, str], meter: str, amount: str) -> None:
    app.sign_in_session(customer["token"], customer["expiresAt"], customer["name"])
    app.goto(f"#/buy?meter={meter}")
    app.page.locator("label.chip", has_text=amount).first.click()
    app.page.locator(".breakdown").get_by_text("Total bayar").wait_for()
    app.page.get_by_role("button", name=PAY).click()


def _purchases(api: Api, customer: dict[str, str]) -> list[dict[str, str]]:
    return list(api.data(PURCHASES, token=customer["token"])["me"]["purchases"]["nodes"])


def _balance(api: Api, customer: dict[str, str]) -> Decimal:
    return Decimal(api.data(WALLET, token=customer["token"])["wallet"]["balance"])


def test_insufficient_balance(app: AppPage, web_api: Api) -> None:
    customer = new_customer(web_api, meters=(_meter(tariff_code="R1", power_va=900),))
    meter = _meter(tariff_code="R1", power_va=900)
    _buy(app, customer, meter, "100.000")
    assert "Saldo tidak cukup" in app.alert_text()
    app.page.get_by_role("link", name="Isi saldo").first.wait_for()
    app.check("error-insufficient-balance")
    assert _purchases(web_api, customer) == []


def test_monthly_kwh_cap(app: AppPage, web_api: Api) -> None:
    meter = _meter(tariff_code="R1", power_va=450)  # 450 VA: at most 324 kWh a month
    customer = new_customer(web_api, balance=5_000_000, meters=(meter,))
    app.sign_in_session(customer["token"], customer["expiresAt"], customer["name"])
    app.goto(f"#/buy?meter={meter}")
    # The quote already refuses what the purchase would refuse, so there is nothing to pay.
    app.page.locator("label.chip", has_text="1.000.000").first.click()
    assert "Batas pembelian kWh bulan ini" in app.alert_text()
    expect(app.page.get_by_role("button", name=PAY)).to_be_disabled()
    app.check("error-monthly-cap")
    # A smaller amount fits, and the breakdown says how much of the cap is left.
    app.page.locator("label.chip", has_text="50.000").first.click()
    app.page.get_by_text("Sisa batas kWh bulan ini").wait_for()
    assert _balance(web_api, customer) == Decimal(5_000_000)


def test_blocked_meter_cannot_be_added(app: AppPage, web_api: Api) -> None:
    blocked = next(m for m in METERS if m.status == "BLOCKED")
    customer = new_customer(web_api)
    app.sign_in_session(customer["token"], customer["expiresAt"], customer["name"])
    app.goto("#/meters/add")
    app.page.get_by_label("No. meter (11 digit) atau ID pelanggan (12 digit)").fill(blocked.number)
    assert "diblokir" in app.alert_text()
    assert app.page.get_by_role("button", name="Simpan meter").count() == 0
    app.check("error-blocked-meter")


def test_biller_maintenance_refunds_and_says_so(app: AppPage, web_api: Api) -> None:
    meter = _meter(tariff_code="R1", power_va=1300)
    customer = new_customer(web_api, balance=300_000, meters=(meter,))
    assert web_api.biller("PUT", "/v1/faults", {"mode": "maintenance", "meterNumber": meter}).status_code < 300
    try:
        _buy(app, customer, meter, "50.000")
        assert "pemeliharaan" in app.alert_text()
        app.check("error-biller-down")
    finally:
        web_api.biller("DELETE", "/v1/faults")
    assert _balance(web_api, customer) == Decimal(300_000), "the wallet was not refunded"


def test_pending_purchase_is_polled_until_it_settles(app: AppPage, web_api: Api) -> None:
    meter = _meter(tariff_code="R1", power_va=2200)
    customer = new_customer(web_api, balance=300_000, meters=(meter,))
    fault = {"mode": "pending_then_success", "meterNumber": meter, "pendingPolls": 1}
    assert web_api.biller("PUT", "/v1/faults", fault).status_code < 300
    try:
        _buy(app, customer, meter, "50.000")
        app.page.get_by_text("Diproses").first.wait_for()
        app.page.get_by_text("Halaman ini diperbarui otomatis").wait_for()
        app.check("purchase-pending")
        # No reload: the page asks again until the biller's answer is in.
        app.page.get_by_test_id("token").wait_for(timeout=60_000)
        app.page.get_by_text("Berhasil").first.wait_for()
    finally:
        web_api.biller("DELETE", "/v1/faults")
    purchases = _purchases(web_api, customer)
    assert [p["status"] for p in purchases] == ["SUCCESS"]


def test_a_lost_answer_then_a_reload_never_buys_twice(app: AppPage, web_api: Api) -> None:
    meter = _meter(tariff_code="R1", power_va=1300)
    customer = new_customer(web_api, balance=300_000, meters=(meter,))
    sent: list[str] = []

    def lose_the_answer(route: Any, request: Any) -> None:
        body = request.post_data or ""
        if "purchaseToken" in body:
            sent.append(json.loads(body)["variables"]["clientReference"])
            route.fetch()  # the router and the biller do the purchase...
            route.abort("connectionreset")  # ...but the answer never reaches the browser
        else:
            route.fallback()

    app.page.route("**/graphql", lose_the_answer)
    _buy(app, customer, meter, "20.000")
    assert "Tidak dapat terhubung" in app.alert_text()
    # Paying again after the error re-sends the same checkout's reference.
    app.page.get_by_role("button", name=PAY).click()
    app.page.get_by_text("Tidak dapat terhubung").first.wait_for()
    app.page.wait_for_timeout(500)
    app.page.unroute("**/graphql", lose_the_answer)
    assert len(sent) == 2 and sent[0] == sent[1], sent

    app.page.reload()
    app.page.get_by_test_id("token").wait_for()
    purchases = _purchases(web_api, customer)
    assert len(purchases) == 1 and purchases[0]["clientReference"] == sent[0]
    assert _balance(web_api, customer) == Decimal(300_000) - Decimal(purchases[0]["totalPaid"])
    # The next checkout is a new purchase with a new reference.
    app.page.get_by_role("link", name="Beli lagi").click()
    app.page.locator("label.chip", has_text="20.000").first.click()
    app.page.locator(".breakdown").get_by_text("Total bayar").wait_for()
    app.page.get_by_role("button", name=PAY).click()
    app.page.get_by_test_id("token").wait_for()
    assert len(_purchases(web_api, customer)) == 2


def test_expired_session_goes_back_to_sign_in(app: AppPage) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    app.sign_in_session("not-a-real-token", later, "Siapa")
    app.goto("#/")
    app.page.get_by_role("heading", name="Masuk ke Setrum").wait_for()
    app.page.get_by_text("Sesi Anda berakhir").wait_for()
    assert app.page.evaluate("localStorage.getItem('setrum.session')") is None
    app.check("error-session-expired")


def test_too_many_sign_in_attempts(app: AppPage, web_api: Api) -> None:
    customer = new_customer(web_api)
    app.goto("#/signin")
    app.page.get_by_label("Email").fill(customer["email"])
    for _ in range(8):
        app.page.get_by_label("Kata sandi").fill("wrong-password-1")
        app.page.get_by_role("button", name="Masuk").click()
        alert = app.alert_text()
        if "Terlalu banyak percobaan" in alert:
            break
        assert "Email atau kata sandi salah" in alert
        expect(app.page.get_by_role("button", name="Masuk")).to_be_enabled()
    assert "Terlalu banyak percobaan" in app.alert_text()


def test_rate_limited_answer_then_retry(app: AppPage, web_api: Api) -> None:
    customer = new_customer(web_api)
    limited = {"errors": [{"message": "slow down", "extensions": {"code": "RATE_LIMITED"}}]}

    def too_many(route: Any, request: Any) -> None:
        route.fulfill(
            status=429, content_type="application/json", body=json.dumps(limited), headers={"retry-after": "1"}
        )

    app.sign_in_session(customer["token"], customer["expiresAt"], customer["name"])
    app.page.route("**/graphql", too_many)
    app.goto("#/")
    assert "Terlalu banyak permintaan" in app.alert_text()
    app.check("error-rate-limited")
    app.page.unroute("**/graphql", too_many)
    app.page.get_by_role("button", name="Coba lagi").click()
    app.page.get_by_role("heading", name="Halo, Pelanggan Uji").wait_for()
