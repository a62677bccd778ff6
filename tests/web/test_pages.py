"""Single pages in depth: the one-request dashboard, paging and filtering the history, adding a
meter by IDPEL, and the keyboard path through the app."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from setrum_common.demo_data import METERS
from tests.e2e.conftest import Api

from .conftest import AppPage, new_customer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

METER = "14233784991"
OTHER_METER = "56001234568"  # Budi Santoso, R3/7700 VA
BUY = """mutation($m: String!, $d: Decimal!, $r: String!) {
  purchaseToken(meterNumber: $m, denomination: $d, clientReference: $r) { status }
}"""


def _operations(app: AppPage) -> list[str]:
    names: list[str] = []

    def record(request: Any) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            names.append(json.loads(request.post_data or "{}").get("operationName") or "?")

    app.page.on("request", record)
    return names


def test_dashboard_is_one_graphql_request(app: AppPage, web_api: Api) -> None:
    customer = new_customer(web_api, balance=100_000, meters=(METER, OTHER_METER))
    web_api.data(BUY, {"m": METER, "d": "20000", "r": uuid.uuid4().hex}, customer["token"])
    app.sign_in_session(customer["token"], customer["expiresAt"], customer["name"])
    app.page.wait_for_load_state("networkidle")
    sent = _operations(app)
    app.page.reload()
    app.page.get_by_role("heading", name="Pembelian terakhir").wait_for()
    app.page.locator(".purchases").get_by_text(METER).wait_for()
    app.page.wait_for_load_state("networkidle")
    assert sent == ["Dashboard"]
    meters = app.page.locator(".meter")
    assert meters.count() == 2
    first = meters.nth(0).inner_text()
    for fact in ("14233784991", "Siti Rahmawati", "R1/1.300 VA", "DKI Jakarta"):
        assert fact in first
    assert "R3/7.700 VA" in meters.nth(1).inner_text()
    # This month's kWh (other customers buy for the same meter too) against the 936 kWh cap, as text
    # and as the bar's width.
    caption = meters.nth(0).locator("figcaption").inner_text()
    match = re.search(r": ([\d.]+,\d) dari batas 936,0 kWh", caption)
    assert match, caption
    used = float(match.group(1).replace(".", "").replace(",", "."))
    assert used >= 12.6  # at least what this customer's 20.000 bought
    bar = meters.nth(0).locator("svg rect").nth(1)
    assert abs(float(bar.get_attribute("width") or 0) - used / 936 * 100) < 0.1


def test_history_pages_and_filters_by_meter(app: AppPage, web_api: Api) -> None:
    customer = new_customer(web_api, balance=1_000_000, meters=(METER, OTHER_METER))
    for i in range(12):
        meter = METER if i % 3 else OTHER_METER
        body = web_api.data(BUY, {"m": meter, "d": "20000", "r": uuid.uuid4().hex}, customer["token"])
        assert body["purchaseToken"]["status"] == "SUCCESS"
    app.sign_in_session(customer["token"], customer["expiresAt"], customer["name"])
    app.goto("#/history")
    rows = app.page.locator(".purchases li")
    app.page.get_by_role("button", name="Muat lebih banyak").wait_for()
    assert rows.count() == 10
    app.page.get_by_role("button", name="Muat lebih banyak").click()
    expect(rows).to_have_count(12)
    assert app.page.get_by_role("button", name="Muat lebih banyak").count() == 0
    app.page.get_by_label("Meter").select_option(OTHER_METER)
    app.page.get_by_role("button", name="Terapkan").click()
    expect(rows).to_have_count(4)
    assert all(OTHER_METER in text for text in rows.all_inner_texts())
    # A date range that ends before today finds nothing.
    app.page.get_by_label("Meter").select_option("")
    app.page.get_by_label("Sampai tanggal").fill("2020-01-31")
    app.page.get_by_role("button", name="Terapkan").click()
    app.page.get_by_text("Belum ada pembelian.").wait_for()


def test_add_a_meter_by_idpel(app: AppPage, web_api: Api) -> None:
    customer = new_customer(web_api)
    app.sign_in_session(customer["token"], customer["expiresAt"], customer["name"])
    app.goto("#/meters/add")
    app.page.get_by_label("No. meter (11 digit) atau ID pelanggan (12 digit)").fill("5434 0089 3210")
    app.page.get_by_text("Format nomor benar. (ID pelanggan)").wait_for()
    app.page.get_by_text("Budi Santoso").wait_for()
    app.page.get_by_role("button", name="Simpan meter").click()
    app.page.get_by_text(f"Meter {OTHER_METER} tersimpan.").wait_for()
    saved = web_api.data("{ savedMeters { meter { number } } }", token=customer["token"])["savedMeters"]
    assert saved == [{"meter": {"number": OTHER_METER}}]


def test_keyboard_only_sign_in_and_language_that_survives_a_reload(app: AppPage, web_api: Api) -> None:
    customer = new_customer(web_api)
    app.goto()
    page = app.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Lewati ke konten utama"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    page.keyboard.type(customer["email"])
    page.keyboard.press("Tab")
    page.keyboard.type("Token-listrik-2026")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Halo, Pelanggan Uji").wait_for()
    # The new page's heading has focus, so a screen reader announces it.
    assert page.evaluate("document.activeElement.tagName") == "H1"
    page.get_by_role("button", name="English").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Hello, Pelanggan Uji").wait_for()
    page.reload()
    page.get_by_role("heading", name="Hello, Pelanggan Uji").wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"


def test_a_meter_that_needs_a_new_key_gets_its_key_change_tokens_first(app: AppPage, web_api: Api) -> None:
    meter = next(m.number for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 1993)
    customer = new_customer(web_api, balance=200_000, meters=(meter,))
    app.sign_in_session(customer["token"], customer["expiresAt"], customer["name"])
    app.goto(f"#/buy?meter={meter}")
    app.page.locator("label.chip", has_text="20.000").first.click()
    app.page.get_by_text("Meter perlu kunci baru").wait_for()
    app.page.get_by_role("button", name=re.compile("^Bayar dari saldo")).click()
    app.page.get_by_test_id("token").wait_for()
    key_change = app.page.get_by_test_id("key-change")
    tokens = key_change.locator(".token-digits").all_inner_texts()
    assert len(tokens) == 2 and all(re.fullmatch(r"\d{4}( \d{4}){4}", t.strip()) for t in tokens), tokens
    app.check("purchase-key-change")
    app.page.get_by_role("link", name="Struk").click()
    struk = app.page.locator("article.struk")
    struk.wait_for()
    assert "TOKEN GANTI KUNCI (KCT) 1" in struk.inner_text() and "TOKEN GANTI KUNCI (KCT) 2" in struk.inner_text()
    app.check("receipt-key-change")
