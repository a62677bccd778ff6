"""A new customer's whole journey in the browser: sign up -> top up -> add meter -> buy -> token ->
history -> reprint -> receipt -> profile -> sign out, every page screenshotted and axe-checked."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Api

from .conftest import ARTIFACTS, PASSWORD, PURCHASES, WALLET, AppPage, rupiah_digits

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

METER = "14233784991"  # Siti Rahmawati, R1/1300 VA, DKI Jakarta (demo register)
TOKEN_GROUPS = re.compile(r"^\d{4} \d{4} \d{4} \d{4} \d{4}$")
RECEIPT_FIELDS = (
    "NO METER",
    "IDPEL",
    "NAMA",
    "TARIF/DAYA",
    "NO REF",
    "RP BAYAR",
    "METERAI",
    "PPN",
    "PPJ",
    "ANGSURAN",
    "RP STROOM/TOKEN",
    "JML KWH",
    "ADMIN BANK",
    "TGL BAYAR",
    "STROOM/TOKEN",
)


def test_sign_up_top_up_add_meter_buy_reprint_and_print_the_receipt(app: AppPage, web_api: Api) -> None:
    page = app.page
    email = f"journey-{page.evaluate('Date.now()')}@example.id"

    # Sign in page first (not signed in), then sign up.
    app.goto()
    page.get_by_role("heading", name="Masuk ke Setrum").wait_for()
    app.check("signin")
    page.get_by_role("link", name="Daftar").click()
    page.get_by_role("heading", name="Buat akun Setrum").wait_for()
    page.get_by_label("Nama lengkap").fill("Rina Kusuma")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    app.check("signup")
    page.get_by_role("button", name="Daftar").click()

    # The dashboard of a new customer: empty wallet, no meters.
    page.get_by_role("heading", name="Halo, Rina Kusuma").wait_for()
    assert rupiah_digits(page.get_by_test_id("balance").inner_text()) == "0"
    page.get_by_text("Belum ada meter tersimpan.").wait_for()
    app.check("dashboard-new")

    # Top up Rp 500.000: a BNI virtual account to pay, then the page waits for the payment.
    page.get_by_role("navigation").get_by_role("link", name="Isi saldo").click()
    page.get_by_role("heading", name="Isi saldo dompet").wait_for()
    page.locator("label.chip", has_text="500.000").click()
    page.get_by_label("Bank").select_option("BNI")
    app.check("topup-form")
    page.locator("form").get_by_role("button", name=re.compile("^Isi saldo")).click()
    page.get_by_role("heading", name="Selesaikan pembayaran").wait_for()
    va_number = page.get_by_test_id("va-number").inner_text()
    assert len(va_number) == 16 and va_number.isdigit()
    page.get_by_text("Bank Negara Indonesia").first.wait_for()
    page.get_by_text("Menunggu pembayaran").wait_for()
    app.check("topup-instructions")
    # The customer pays at their bank (the provider's simulator); the page sees it on its own.
    paid = httpx.post(
        app.system.spec("payments").base_url + "/v1/simulator/pay", json={"handle": va_number}, timeout=30
    )
    assert paid.status_code == 200, paid.text
    page.get_by_text("Saldo bertambah").wait_for()
    assert rupiah_digits(page.get_by_test_id("balance").inner_text()) == "500000"
    app.check("topup-paid")

    # Add a meter: live feedback on digit count and check digit, then the holder to confirm.
    page.get_by_role("navigation").get_by_role("link", name="Tambah meter").click()
    field = page.get_by_label("No. meter (11 digit) atau ID pelanggan (12 digit)")
    field.fill("1423378")
    page.get_by_text("7 digit").wait_for()
    field.fill("14233784992")
    page.get_by_text("check digit").wait_for()
    assert field.get_attribute("aria-invalid") == "true"
    field.fill(METER)
    page.get_by_text("Siti Rahmawati").wait_for()
    page.get_by_text("R1/1.300 VA").wait_for()
    page.get_by_label("Nama meter (mis. Rumah)").fill("Rumah")
    app.check("add-meter")
    page.get_by_role("button", name="Simpan meter").click()
    page.get_by_text(f"Meter {METER} tersimpan.").wait_for()
    page.get_by_role("heading", name="Rumah").wait_for()
    page.get_by_text("dari batas 936,0 kWh").wait_for()
    app.check("dashboard")

    # Buy Rp 100.000: the full price breakdown from the API before paying.
    page.get_by_role("heading", name="Rumah").locator("xpath=..").get_by_role("link", name="Beli token").click()
    page.get_by_role("heading", name="Beli token listrik").wait_for()
    page.locator("label.chip", has_text="100.000").first.click()
    breakdown = page.locator(".breakdown")
    breakdown.get_by_text("Total bayar").wait_for()
    for label in ("Rp stroom/token", "PPJ", "PPN", "Materai", "Angsuran", "Biaya admin", "Jumlah kWh"):
        assert breakdown.get_by_text(label).count() >= 1, label
    total = rupiah_digits(breakdown.locator(".row-strong dd").inner_text())
    app.check("buy")
    # A double click pays once.
    page.get_by_role("button", name=re.compile("^Bayar dari saldo")).dblclick()

    # The purchase: token in groups of four, and a copy button.
    token_box = page.get_by_test_id("token")
    token_box.wait_for()
    grouped = token_box.inner_text().strip()
    assert TOKEN_GROUPS.match(grouped), grouped
    page.get_by_text("Berhasil").first.wait_for()
    page.get_by_role("button", name="Salin token").click()
    page.get_by_text("Token disalin.").wait_for()
    app.check("purchase")

    purchases = web_api.data(PURCHASES, token=_token(app))["me"]["purchases"]["nodes"]
    assert len(purchases) == 1, "a double click bought twice"
    assert purchases[0]["token"] == grouped.replace(" ", "")
    assert Decimal(purchases[0]["totalPaid"]) == Decimal(total)
    assert Decimal(web_api.data(WALLET, token=_token(app))["wallet"]["balance"]) == Decimal(500000) - Decimal(total)

    # History: the purchase is listed; a status filter with no match shows none.
    page.get_by_role("navigation").get_by_role("link", name="Riwayat").click()
    page.get_by_role("heading", name="Riwayat pembelian").wait_for()
    page.locator(".purchases").get_by_text(METER).wait_for()
    app.check("history")
    page.get_by_label("Status").select_option("FAILED")
    page.get_by_role("button", name="Terapkan").click()
    page.get_by_text("Belum ada pembelian.").wait_for()
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Terapkan").click()
    page.locator(".purchases a").first.click()

    # Reprint: the same token again, never a new purchase.
    page.get_by_role("button", name="Cetak ulang token").click()
    page.get_by_text("Token dicetak ulang").wait_for()
    assert page.get_by_test_id("token").inner_text().strip() == grouped
    assert len(web_api.data(PURCHASES, token=_token(app))["me"]["purchases"]["nodes"]) == 1

    # The receipt has every field of a PLN struk, and prints without the app's chrome.
    page.get_by_role("link", name="Struk").click()
    struk = page.locator("article.struk")
    struk.wait_for()
    text = struk.inner_text()
    for field_name in RECEIPT_FIELDS:
        assert field_name in text, field_name
    assert "Siti Rahmawati" in text and "543400893197" in text and "R1/1.300 VA" in text
    assert page.get_by_test_id("receipt-token").inner_text().strip() == grouped
    app.check("receipt")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.get_by_role("button", name="Cetak struk").is_visible()
    assert struk.is_visible()
    page.screenshot(path=str(_artifact("receipt-print.png")), full_page=True)
    page.emulate_media(media="screen")

    # Profile and password: the current password is required and checked.
    page.get_by_role("navigation").get_by_role("link", name="Profil").click()
    page.get_by_role("heading", name="Ganti kata sandi").wait_for()
    app.check("profile")
    page.get_by_label("Nomor HP (opsional)").fill("+6281234567890")
    page.get_by_role("button", name="Simpan profil").click()
    page.get_by_text("Profil tersimpan.").wait_for()
    me = web_api.data("{ me { name phone } }", token=_token(app))["me"]
    assert me == {"name": "Rina Kusuma", "phone": "+6281234567890"}
    page.get_by_label("Kata sandi saat ini").fill("not-my-password-1")
    page.get_by_label("Kata sandi baru").fill("Listrik-baru-2027")
    page.get_by_role("button", name="Ganti kata sandi").click()
    assert "salah" in app.alert_text().lower()
    page.get_by_label("Kata sandi saat ini").fill(PASSWORD)
    page.get_by_role("button", name="Ganti kata sandi").click()
    page.get_by_text("Kata sandi diganti.").wait_for()

    # English, then sign out and back in with the new password.
    page.get_by_role("button", name="English").click()
    page.get_by_role("navigation").get_by_role("link", name="Home").click()
    page.get_by_role("heading", name="Hello, Rina Kusuma").wait_for()
    app.check("dashboard-en")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    page.get_by_role("button", name="Indonesia", exact=True).click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill("Listrik-baru-2027")
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("heading", name="Halo, Rina Kusuma").wait_for()


def _token(app: AppPage) -> str:
    return str(app.page.evaluate("JSON.parse(localStorage.getItem('setrum.session')).token"))


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
