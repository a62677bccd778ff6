"""Inquiry, meter and quote over GraphQL, against the demo data (docs/domain.md §Purchase flow, §Price and kWh)."""

from __future__ import annotations

from decimal import Decimal

from setrum_common import demo_data as demo

from .conftest import GraphQLClient, error_codes

INQUIRY = """
query($n: String!) { inquiry(number: $n) {
  meterNumber idpel holderName tariffCode powerVa matchedBy checkDigitValid
  region { code name } meter { number status monthlyKwhLimit tariff { code rate } }
} }
"""

QUOTE = """
query($m: String!, $d: Decimal!, $c: String) { quote(meterNumber: $m, denomination: $d, channel: $c) {
  meterNumber idpel holderName tariffCode powerVa regionCode monthlyKwhLimit channel
  nominal adminFee stampDuty instalment ppjRate ppj ppnRate ppn energyValue tariffRate kwh totalPaid quotedAt
  tariff { code effectiveTo } meter { number }
} }
"""

SITI_METER = demo.METERS[0]  # R1 / 1,300 VA, DKI Jakarta (2.4%)
BUDI_METER = demo.METERS[1]  # R3 / 7,700 VA, DKI Jakarta (4% + PPN 11%)
BLOCKED = next(m for m in demo.METERS if m.status == "BLOCKED")
WITH_INSTALMENT = next(m for m in demo.METERS if m.instalment > 0)


async def test_inquiry_by_meter_number_anonymously(gql: GraphQLClient) -> None:
    result = await gql(INQUIRY, {"n": "14233784991"})
    assert "errors" not in result
    inquiry = result["data"]["inquiry"]
    assert inquiry == {
        "meterNumber": "14233784991",
        "idpel": "543400893197",
        "holderName": "Siti Rahmawati",
        "tariffCode": "R1",
        "powerVa": 1300,
        "matchedBy": "METER_NUMBER",
        "checkDigitValid": True,
        "region": {"code": "DKI", "name": "DKI Jakarta"},
        "meter": {
            "number": "14233784991",
            "status": "ACTIVE",
            "monthlyKwhLimit": "936.0",
            "tariff": {"code": "R1", "rate": "1444.70"},
        },
    }


async def test_inquiry_by_idpel(gql: GraphQLClient) -> None:
    result = await gql(INQUIRY, {"n": BUDI_METER.idpel})
    inquiry = result["data"]["inquiry"]
    assert inquiry["meterNumber"] == BUDI_METER.number
    assert inquiry["matchedBy"] == "IDPEL"
    assert (inquiry["tariffCode"], inquiry["powerVa"]) == ("R3", 7700)


async def test_inquiry_errors(gql: GraphQLClient) -> None:
    for number in ("1423378499", "1423378499a", "", "5434008931970"):
        assert error_codes(await gql(INQUIRY, {"n": number})) == ["WRONG_DIGIT_COUNT"], number
    unknown = "99999999990"  # a valid check digit, not registered
    assert error_codes(await gql(INQUIRY, {"n": unknown})) == ["WRONG_CUSTOMER_NUMBER"]
    # The example meter 14233784991 mistyped in its last digit: the check digit says so.
    mistyped = await gql(INQUIRY, {"n": "14233784992"})
    assert error_codes(mistyped) == ["WRONG_CHECK_DIGIT"]
    assert mistyped["errors"][0]["message"].startswith("Check the number: the last digit of 14233784992 does not match")
    assert error_codes(await gql(INQUIRY, {"n": "599999999999"})) == ["WRONG_CUSTOMER_NUMBER"]
    assert error_codes(await gql(INQUIRY, {"n": BLOCKED.number})) == ["CUSTOMER_BLOCKED"]
    assert error_codes(await gql(INQUIRY, {"n": BLOCKED.idpel})) == ["CUSTOMER_BLOCKED"]


async def test_meter_query_shows_blocked_meters_and_null_for_unknown(gql: GraphQLClient) -> None:
    result = await gql("query($n: String!) { meter(number: $n) { number status } }", {"n": BLOCKED.number})
    assert result["data"]["meter"] == {"number": BLOCKED.number, "status": "BLOCKED"}
    result = await gql('query { meter(number: "99999999999") { number } }')
    assert result == {"data": {"meter": None}}


async def test_quote_worked_example_r1_1300va(gql: GraphQLClient) -> None:
    result = await gql(QUOTE, {"m": SITI_METER.number, "d": "100000"})
    assert "errors" not in result, result
    q = result["data"]["quote"]
    assert q["energyValue"] == "97656.25"
    assert q["ppj"] == "2343.75"
    assert q["ppn"] == "0.00"
    assert q["kwh"] == "67.5"
    assert q["ppjRate"] == "0.024"
    assert q["ppnRate"] == "0"
    assert q["nominal"] == "100000.00"
    assert q["adminFee"] == "2500.00"  # the default channel's fee
    assert q["totalPaid"] == "102500.00"
    assert q["stampDuty"] == "0.00" and q["instalment"] == "0.00"
    assert q["channel"] == demo.DEFAULT_CHANNEL
    assert (q["holderName"], q["idpel"], q["tariffCode"], q["powerVa"]) == (
        "Siti Rahmawati",
        SITI_METER.idpel,
        "R1",
        1300,
    )
    assert q["monthlyKwhLimit"] == "936.0"
    assert q["tariffRate"] == "1444.70"
    assert q["tariff"] == {"code": "R1", "effectiveTo": None}
    assert q["meter"] == {"number": SITI_METER.number}
    assert q["quotedAt"]


async def test_quote_worked_example_r3_with_ppn_and_agent_channel(gql: GraphQLClient) -> None:
    q = (await gql(QUOTE, {"m": BUDI_METER.number, "d": "1000000", "c": "setrum-agent"}))["data"]["quote"]
    assert (q["ppj"], q["ppn"], q["energyValue"], q["kwh"]) == ("34782.61", "95652.17", "869565.22", "511.6")
    assert (q["ppjRate"], q["ppnRate"]) == ("0.04", "0.11")
    assert q["adminFee"] == "3500.00"
    assert q["totalPaid"] == "1003500.00"


async def test_quote_stamp_duty_above_five_million(gql: GraphQLClient) -> None:
    q5 = (await gql(QUOTE, {"m": BUDI_METER.number, "d": "5000000"}))["data"]["quote"]
    assert q5["stampDuty"] == "0.00"
    q10 = (await gql(QUOTE, {"m": BUDI_METER.number, "d": "10000000"}))["data"]["quote"]
    assert q10["stampDuty"] == "10000.00"
    total = sum(Decimal(q10[k]) for k in ("energyValue", "ppj", "ppn", "stampDuty", "instalment"))
    assert total == Decimal(q10["nominal"])


async def test_quote_deducts_outstanding_instalment(gql: GraphQLClient) -> None:
    q = (await gql(QUOTE, {"m": WITH_INSTALMENT.number, "d": "50000"}))["data"]["quote"]
    assert q["instalment"] == "5000.00"
    total = sum(Decimal(q[k]) for k in ("energyValue", "ppj", "ppn", "stampDuty", "instalment"))
    assert total == Decimal("50000")


async def test_quote_errors(gql: GraphQLClient) -> None:
    assert error_codes(await gql(QUOTE, {"m": SITI_METER.number, "d": "12345"})) == ["PRODUCT_UNAVAILABLE"]
    amounts = {
        "1e5": "AMOUNT_NOT_DIGITS", "-20000": "AMOUNT_NOT_DIGITS", "-100000": "AMOUNT_NOT_DIGITS",
        "20000.0": "AMOUNT_NOT_DIGITS", "20000.000": "AMOUNT_NOT_DIGITS", "1e400": "AMOUNT_NOT_DIGITS", "Infinity": "AMOUNT_NOT_DIGITS",
        "NaN": "AMOUNT_NOT_DIGITS", "20000.5": "AMOUNT_NOT_WHOLE_RUPIAH", "100000.001": "AMOUNT_NOT_WHOLE_RUPIAH",
        "0": "AMOUNT_OUT_OF_RANGE", "1000000001": "AMOUNT_OUT_OF_RANGE",
    }  # fmt: skip
    for odd, code in amounts.items():
        assert error_codes(await gql(QUOTE, {"m": SITI_METER.number, "d": odd})) == [code], odd
    assert error_codes(await gql(QUOTE, {"m": BLOCKED.number, "d": "100000"})) == ["CUSTOMER_BLOCKED"]
    assert error_codes(await gql(QUOTE, {"m": SITI_METER.number, "d": "100000", "c": "nope"})) == ["BAD_USER_INPUT"]
    assert error_codes(await gql(QUOTE, {"m": "99999999990", "d": "100000"})) == ["WRONG_CUSTOMER_NUMBER"]
    assert error_codes(await gql(QUOTE, {"m": "99999999999", "d": "100000"})) == ["WRONG_CHECK_DIGIT"]
    assert error_codes(await gql(QUOTE, {"m": "123", "d": "100000"})) == ["WRONG_DIGIT_COUNT"]


async def test_quote_for_anyone(gql: GraphQLClient) -> None:
    q = (await gql(QUOTE, {"m": SITI_METER.number, "d": "20000"}))["data"]["quote"]
    assert q["nominal"] == "20000.00"
    assert Decimal(q["energyValue"]) + Decimal(q["ppj"]) == Decimal("20000")


async def test_bad_token_is_unauthenticated_even_for_public_fields(gql: GraphQLClient) -> None:
    result = await gql.as_("not-a-jwt")('mutation { saveMeter(number: "14233784991") { alias } }')
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_master_data_lists(gql: GraphQLClient) -> None:
    result = await gql(
        "{ tariffs { code minVa maxVa rate ppnApplies ppnRate } regions { code ppjRules { rate tariffClasses minVa maxVa } }"
        " denominations { amount active } channels { code adminFee } stampDutyRule { threshold amount } }"
    )
    data = result["data"]
    assert len(data["tariffs"]) == len(demo.TARIFFS)
    r3 = next(t for t in data["tariffs"] if t["code"] == "R3")
    assert r3 == {"code": "R3", "minVa": 6600, "maxVa": None, "rate": "1699.53", "ppnApplies": True, "ppnRate": "0.11"}
    dki = next(r for r in data["regions"] if r["code"] == "DKI")
    assert dki["ppjRules"][0] == {"rate": "0.024", "tariffClasses": [], "minVa": 0, "maxVa": 2200}
    assert [d["amount"] for d in data["denominations"]] == [f"{d}.00" for d in demo.DENOMINATIONS]
    assert {c["code"]: c["adminFee"] for c in data["channels"]}["setrum-app"] == "2500.00"
    assert data["stampDutyRule"] == {"threshold": "5000000.00", "amount": "10000.00"}


async def test_a_listed_denomination_is_quoted_as_written(gql: GraphQLClient) -> None:
    """A client sends back the amount the API showed it ("100000.00"), and gets the same quote as for "100000"."""
    listed = (await gql("{ denominations { amount } }"))["data"]["denominations"]
    for amount in (d["amount"] for d in listed):
        as_listed = (await gql(QUOTE, {"m": SITI_METER.number, "d": amount}))["data"]["quote"]
        as_digits = (await gql(QUOTE, {"m": SITI_METER.number, "d": amount.removesuffix(".00")}))["data"]["quote"]
        as_listed.pop("quotedAt"), as_digits.pop("quotedAt")
        assert as_listed == as_digits, amount
