"""Admin-only master-data upkeep: authorization, validation, and effect on later quotes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from setrum_common import demo_data as demo
from setrum_common.identifiers import luhn_check_digit

from .conftest import GraphQLClient, error_codes

SITI_METER = demo.METERS[0]  # R1 / 1,300 VA, DKI
QUOTE = "query($m: String!, $d: Decimal!, $c: String) { quote(meterNumber: $m, denomination: $d, channel: $c) { tariffRate kwh energyValue ppj ppjRate adminFee totalPaid tariff { id } } }"
UPSERT_TARIFF = "mutation($i: TariffInput!) { upsertTariff(input: $i) { id code minVa maxVa rate ppnApplies ppnRate effectiveFrom effectiveTo } }"
UPSERT_REGION = (
    "mutation($i: RegionInput!) { upsertRegion(input: $i) { code name ppjRules { rate tariffClasses minVa maxVa } } }"
)
SET_STATUS = "mutation($n: String!, $s: MeterStatus!) { setMeterStatus(number: $n, status: $s) { number status } }"
ADD_DENOM = "mutation($a: Decimal!) { addDenomination(amount: $a) { amount active } }"
DEACTIVATE_DENOM = "mutation($a: Decimal!) { deactivateDenomination(amount: $a) { amount active } }"
SET_FEE = "mutation($c: String!, $f: Decimal!) { setChannelAdminFee(channel: $c, adminFee: $f) { code adminFee } }"
SET_STAMP = "mutation($t: Decimal!, $a: Decimal!) { setStampDuty(threshold: $t, amount: $a) { threshold amount } }"
UPSERT_METER = "mutation($i: MeterInput!) { upsertMeter(input: $i) { number idpel holderName status checkDigitValid tariff { code } region { code } } }"

R1_1300 = {"code": "R1", "minVa": 1300, "maxVa": 2200, "rate": "1500.00", "description": "R-1 2027"}
ALL_MUTATIONS = [
    (UPSERT_TARIFF, {"i": R1_1300}),
    (UPSERT_REGION, {"i": {"code": "XYZ", "name": "Kota X", "ppjRules": []}}),
    (SET_STATUS, {"n": SITI_METER.number, "s": "BLOCKED"}),
    (ADD_DENOM, {"a": "75000"}),
    (DEACTIVATE_DENOM, {"a": "20000"}),
    (SET_FEE, {"c": "setrum-app", "f": "0"}),
    (SET_STAMP, {"t": "1", "a": "1"}),
    (
        UPSERT_METER,
        {
            "i": {
                "number": "10000000009",
                "idpel": "500000000001",
                "holderName": "X",
                "tariffCode": "R1",
                "powerVa": 900,
                "regionCode": "DKI",
            }
        },
    ),
]


@pytest.mark.parametrize(("mutation", "variables"), ALL_MUTATIONS)
async def test_admin_mutations_are_forbidden_to_customers(
    gql: GraphQLClient, siti_token: str, mutation: str, variables: dict[str, object]
) -> None:
    assert error_codes(await gql.as_(siti_token)(mutation, variables)) == ["FORBIDDEN"]
    assert error_codes(await gql(mutation, variables)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(("mutation", "variables"), ALL_MUTATIONS)
async def test_admin_mutations_work_for_an_admin_never_a_service(
    gql: GraphQLClient, admin_token: str, service_token: str, mutation: str, variables: dict[str, object]
) -> None:
    # A token claiming the SERVICE role is nobody on GraphQL (issue 11: it was full admin everywhere).
    assert error_codes(await gql.as_(service_token)(mutation, variables)) == ["UNAUTHENTICATED"]
    result = await gql.as_(admin_token)(mutation, variables)
    assert "errors" not in result, result


async def test_new_tariff_version_changes_later_quotes(gql: GraphQLClient, admin_token: str) -> None:
    before = (await gql(QUOTE, {"m": SITI_METER.number, "d": "100000"}))["data"]["quote"]
    assert (before["tariffRate"], before["kwh"]) == ("1444.70", "67.5")

    # A version starting next year does not change today's quote.
    future = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    scheduled = await gql.as_(admin_token)(
        UPSERT_TARIFF, {"i": {**R1_1300, "rate": "2000.00", "effectiveFrom": future}}
    )
    assert "errors" not in scheduled, scheduled
    assert (await gql(QUOTE, {"m": SITI_METER.number, "d": "100000"}))["data"]["quote"]["tariffRate"] == "1444.70"

    # An earlier start than the scheduled version is refused (versions only move forward).
    refused = await gql.as_(admin_token)(UPSERT_TARIFF, {"i": {**R1_1300, "rate": "1600.00"}})
    assert error_codes(refused) == ["BAD_USER_INPUT"]

    history = (await gql("{ tariffs(includeHistory: true) { code minVa rate effectiveFrom effectiveTo } }"))["data"][
        "tariffs"
    ]
    r1 = [t for t in history if t["code"] == "R1" and t["minVa"] == 1300]
    assert [t["rate"] for t in r1] == ["1444.70", "2000.00"]
    assert r1[0]["effectiveTo"] == r1[1]["effectiveFrom"]  # the old version closes where the new begins
    assert r1[1]["effectiveTo"] is None


async def test_tariff_version_effective_now(gql: GraphQLClient, admin_token: str) -> None:
    result = await gql.as_(admin_token)(UPSERT_TARIFF, {"i": R1_1300})
    created = result["data"]["upsertTariff"]
    assert (created["rate"], created["ppnApplies"], created["effectiveTo"]) == ("1500.00", False, None)
    after = (await gql(QUOTE, {"m": SITI_METER.number, "d": "100000"}))["data"]["quote"]
    assert after["tariffRate"] == "1500.00"
    assert after["tariff"]["id"] == created["id"]
    assert after["kwh"] == "65.1"  # 97,656.25 / 1,500 = 65.10...
    current = (await gql("{ tariffs { code minVa rate } }"))["data"]["tariffs"]
    assert [t["rate"] for t in current if t["code"] == "R1" and t["minVa"] == 1300] == ["1500.00"]
    assert len(current) == len(demo.TARIFFS)


@pytest.mark.parametrize(
    "bad",
    [
        {"rate": "0"},
        {"rate": "-5"},
        {"rate": "1444.705"},
        {"ppnRate": "0.5"},
        {"ppnRate": "-0.01"},
        {"minVa": 3000, "maxVa": 2000},
        {"code": "bad code!"},
        {"rate": "NaN"},
    ],
)
async def test_tariff_validation(gql: GraphQLClient, admin_token: str, bad: dict[str, object]) -> None:
    assert error_codes(await gql.as_(admin_token)(UPSERT_TARIFF, {"i": {**R1_1300, **bad}})) == ["BAD_USER_INPUT"]


async def test_region_ppj_rules_drive_quotes(gql: GraphQLClient, admin_token: str) -> None:
    rules = [
        {"rate": "0.05", "tariffClasses": [], "minVa": 0, "maxVa": 2200},
        {"rate": "0.03", "tariffClasses": ["R1"], "minVa": 1300, "maxVa": 1300},
        {"rate": "0.02", "tariffClasses": ["I3", "I4"]},
    ]
    result = await gql.as_(admin_token)(UPSERT_REGION, {"i": {"code": "DKI", "name": "DKI Jakarta", "ppjRules": rules}})
    region = result["data"]["upsertRegion"]
    assert region["ppjRules"] == [
        {"rate": "0.05", "tariffClasses": [], "minVa": 0, "maxVa": 2200},
        {"rate": "0.03", "tariffClasses": ["R1"], "minVa": 1300, "maxVa": 1300},
        {"rate": "0.02", "tariffClasses": ["I3", "I4"], "minVa": 0, "maxVa": None},
    ]
    quote = (await gql(QUOTE, {"m": SITI_METER.number, "d": "100000"}))["data"]["quote"]
    assert quote["ppjRate"] == "0.03"  # the class-specific rule beats the catch-all
    assert Decimal(quote["ppj"]) + Decimal(quote["energyValue"]) == Decimal("100000")
    regions = (await gql("{ regions { code } }"))["data"]["regions"]
    assert [r["code"] for r in regions].count("DKI") == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"rate": "0.11"},
        {"rate": "-0.01"},
        {"rate": "0.05", "tariffClasses": ["I3"]},  # industry: at most 3%
        {"rate": "0.05", "minVa": 5000, "maxVa": 100},
    ],
)
async def test_region_validation(gql: GraphQLClient, admin_token: str, rule: dict[str, object]) -> None:
    variables = {"i": {"code": "DKI", "name": "DKI Jakarta", "ppjRules": [rule]}}
    assert error_codes(await gql.as_(admin_token)(UPSERT_REGION, variables)) == ["BAD_USER_INPUT"]
    assert error_codes(
        await gql.as_(admin_token)(UPSERT_REGION, {"i": {"code": "DKI", "name": " ", "ppjRules": []}})
    ) == ["BAD_USER_INPUT"]


async def test_block_and_unblock_a_meter(gql: GraphQLClient, admin_token: str) -> None:
    admin = gql.as_(admin_token)
    blocked = await admin(SET_STATUS, {"n": SITI_METER.number, "s": "BLOCKED"})
    assert blocked["data"]["setMeterStatus"] == {"number": SITI_METER.number, "status": "BLOCKED"}
    assert error_codes(await gql("query($n: String!) { inquiry(number: $n) { idpel } }", {"n": SITI_METER.number})) == [
        "CUSTOMER_BLOCKED"
    ]
    assert error_codes(await gql(QUOTE, {"m": SITI_METER.number, "d": "100000"})) == ["CUSTOMER_BLOCKED"]
    unblocked = await admin(SET_STATUS, {"n": SITI_METER.idpel, "s": "ACTIVE"})
    assert unblocked["data"]["setMeterStatus"]["status"] == "ACTIVE"
    assert "errors" not in await gql(QUOTE, {"m": SITI_METER.number, "d": "100000"})
    assert error_codes(await admin(SET_STATUS, {"n": "99999999990", "s": "ACTIVE"})) == ["WRONG_CUSTOMER_NUMBER"]


async def test_denominations_and_channel_fees(gql: GraphQLClient, admin_token: str) -> None:
    admin = gql.as_(admin_token)
    assert error_codes(await gql(QUOTE, {"m": SITI_METER.number, "d": "75000"})) == ["PRODUCT_UNAVAILABLE"]
    assert (await admin(ADD_DENOM, {"a": "75000"}))["data"]["addDenomination"] == {"amount": "75000.00", "active": True}
    assert "errors" not in await gql(QUOTE, {"m": SITI_METER.number, "d": "75000"})
    assert (await admin(DEACTIVATE_DENOM, {"a": "75000"}))["data"]["deactivateDenomination"]["active"] is False
    assert error_codes(await gql(QUOTE, {"m": SITI_METER.number, "d": "75000"})) == ["PRODUCT_UNAVAILABLE"]
    listed = (await gql("{ denominations(includeInactive: true) { amount active } }"))["data"]["denominations"]
    assert {"amount": "75000.00", "active": False} in listed
    assert error_codes(await admin(ADD_DENOM, {"a": "0"})) == ["AMOUNT_OUT_OF_RANGE"]
    assert error_codes(await admin(ADD_DENOM, {"a": "1000.50"})) == ["AMOUNT_NOT_WHOLE_RUPIAH"]
    assert error_codes(await admin(ADD_DENOM, {"a": "1e5"})) == ["AMOUNT_NOT_DIGITS"]
    assert error_codes(await admin(DEACTIVATE_DENOM, {"a": "123"})) == ["NOT_FOUND"]

    assert (await admin(SET_FEE, {"c": "partner-x", "f": "1000"}))["data"]["setChannelAdminFee"] == {
        "code": "partner-x",
        "adminFee": "1000.00",
    }
    quote = (await gql(QUOTE, {"m": SITI_METER.number, "d": "100000", "c": "partner-x"}))["data"]["quote"]
    assert (quote["adminFee"], quote["totalPaid"]) == ("1000.00", "101000.00")
    assert error_codes(await admin(SET_FEE, {"c": "partner-x", "f": "-1"})) == ["AMOUNT_NOT_DIGITS"]
    assert error_codes(await admin(SET_FEE, {"c": "Bad Channel", "f": "1"})) == ["BAD_USER_INPUT"]


async def test_stamp_duty_rule_is_maintained(gql: GraphQLClient, admin_token: str) -> None:
    await gql.as_(admin_token)(SET_STAMP, {"t": "50000", "a": "3000"})
    quote = await gql(
        'query { quote(meterNumber: "14233784991", denomination: "100000") { stampDuty energyValue ppj } }'
    )
    q = quote["data"]["quote"]
    assert q["stampDuty"] == "3000.00"
    assert Decimal(q["energyValue"]) + Decimal(q["ppj"]) + Decimal("3000") == Decimal("100000")


async def test_register_meter_with_bad_check_digit_warns(gql: GraphQLClient, admin_token: str) -> None:
    payload = "1777777777"
    bad_number = payload + str((int(luhn_check_digit(payload)) + 1) % 10)
    meter = {
        "number": bad_number,
        "idpel": "512345678901",
        "holderName": "Rina Kusuma",
        "tariffCode": "r1m",
        "powerVa": 900,
        "regionCode": "BGR",
    }
    created = (await gql.as_(admin_token)(UPSERT_METER, {"i": meter}))["data"]["upsertMeter"]
    assert created == {
        "number": bad_number,
        "idpel": "512345678901",
        "holderName": "Rina Kusuma",
        "status": "ACTIVE",
        "checkDigitValid": False,
        "tariff": {"code": "R1M"},
        "region": {"code": "BGR"},
    }
    inquiry = await gql("query($n: String!) { inquiry(number: $n) { meterNumber checkDigitValid } }", {"n": bad_number})
    assert inquiry["data"]["inquiry"] == {"meterNumber": bad_number, "checkDigitValid": False}
    quote = (await gql(QUOTE, {"m": bad_number, "d": "20000"}))["data"]["quote"]
    assert quote["ppjRate"] == "0.03"  # Kab. Bogor, R1M 900 VA
    # An IDPEL belongs to one meter only; unknown regions and tariffs are refused.
    clash = {**meter, "number": "10000000009", "idpel": demo.METERS[0].idpel}
    assert error_codes(await gql.as_(admin_token)(UPSERT_METER, {"i": clash})) == ["BAD_USER_INPUT"]
    assert error_codes(await gql.as_(admin_token)(UPSERT_METER, {"i": {**meter, "regionCode": "NOPE"}})) == [
        "BAD_USER_INPUT"
    ]
    assert error_codes(await gql.as_(admin_token)(UPSERT_METER, {"i": {**meter, "powerVa": 1300}})) == [
        "BAD_USER_INPUT"
    ]
