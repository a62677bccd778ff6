"""Domain rules through the router against the five real processes: the key change purchase on the
demo meter still on the 1993 base date (the README's "Try it"), quotes that refuse what purchases
refuse, the monthly cap known before the first purchase, and the check-digit error."""

from __future__ import annotations

import os
from decimal import Decimal

from biller.settings import DEV_VENDING_KEY
from setrum_common.demo_data import METERS
from sts.keys import parse_vending_key
from sts.meter import MeterSimulator, Outcome
from sts.tid import base_date_for_year
from tests.fixtures.demo_meters import demo_decoder_key

from .conftest import Api, error_codes
from .test_purchase_flow import BUY, active_meter, sign_up

METER_1993 = next(m for m in METERS if m.sts_base_date == 1993 and m.status == "ACTIVE")
QUOTE = """query($m: String!, $d: Decimal!) { quote(meterNumber: $m, denomination: $d) {
  kwh totalPaid monthlyKwhRemaining keyChange { tokensBeforeCredit instructions } } }"""
KCT_BUY = """mutation($m: String!, $d: Decimal!, $ref: String!) {
  purchaseToken(meterNumber: $m, denomination: $d, clientReference: $ref) {
    status kwh token formattedToken keyChangeTokens tokenInstructions } }"""


def test_key_change_purchase_through_the_router(api: Api) -> None:
    token, _ = sign_up(api, balance=200_000)
    quote = api.data(QUOTE, {"m": METER_1993.number, "d": "100000"}, token)["quote"]
    assert quote["keyChange"]["tokensBeforeCredit"] == 2
    bought = api.data(KCT_BUY, {"m": METER_1993.number, "d": "100000", "ref": "kct-e2e"}, token)["purchaseToken"]
    assert bought["status"] == "SUCCESS" and bought["kwh"] == quote["kwh"]
    assert len(bought["keyChangeTokens"]) == 2 and "then the credit token" in bought["tokenInstructions"]
    vending_key = parse_vending_key(os.environ.get("SETRUM_STS_VENDING_KEY") or DEV_VENDING_KEY)
    meter = MeterSimulator(demo_decoder_key(METER_1993.number, vending_key), base=base_date_for_year(1993))
    assert meter.enter(bought["formattedToken"]).outcome is Outcome.CRC_ERROR
    for kct in bought["keyChangeTokens"]:
        assert meter.enter(kct).accepted
    assert meter.enter(bought["formattedToken"]).credited_kwh == Decimal(bought["kwh"])
    assert api.data(QUOTE, {"m": METER_1993.number, "d": "100000"}, token)["quote"]["keyChange"] is None


def test_quote_and_purchase_answer_bad_amounts_alike(api: Api) -> None:
    token, _ = sign_up(api, balance=100_000)
    expected = {"1e5": "AMOUNT_NOT_DIGITS", "-20000": "AMOUNT_NOT_DIGITS", "0": "AMOUNT_OUT_OF_RANGE",
                "20000.5": "AMOUNT_NOT_WHOLE_RUPIAH"}  # fmt: skip
    for amount, code in expected.items():
        assert error_codes(api(QUOTE, {"m": "14233784991", "d": amount}, token)) == [code], amount
        bought = api(BUY, {"meter": "14233784991", "denomination": amount, "ref": f"bad-{amount}"}, token)
        assert error_codes(bought) == [code], amount


def test_the_cap_is_known_before_the_first_purchase(api: Api) -> None:
    token, _ = sign_up(api)
    fresh = active_meter(index_from=40)  # no test buys for it
    va = next(m.power_va for m in METERS if m.number == fresh)
    # A meter's usage is its owner's (issue 11): the new customer saves the meter first.
    api.data("mutation($n: String!) { saveMeter(number: $n) { alias } }", {"n": fresh}, token)
    usage = api.data(
        "query($n: String!) { meter(number: $n) { monthlyKwhLimit monthlyUsage { kwh limitKwh remainingKwh } } }",
        {"n": fresh}, token,
    )["meter"]  # fmt: skip
    limit = str((Decimal(va) * 72 / 100).quantize(Decimal("0.1")))  # VA / 1000 x 720 kWh
    assert usage["monthlyUsage"] == {"kwh": "0.0", "limitKwh": limit, "remainingKwh": limit}
    assert Decimal(usage["monthlyKwhLimit"]) == Decimal(limit)


def test_a_mistyped_meter_number_gets_the_check_digit_error(api: Api) -> None:
    body = api('query { inquiry(number: "14233784992") { holderName } }')
    assert error_codes(body) == ["WRONG_CHECK_DIGIT"]
    assert "the last digit" in body["errors"][0]["message"]
    assert error_codes(api('query { inquiry(number: "99999999990") { holderName } }')) == ["WRONG_CUSTOMER_NUMBER"]
