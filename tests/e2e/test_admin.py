"""Admin work through the router: STS management tokens and master data."""

from __future__ import annotations

from biller.settings import DEV_VENDING_KEY
from setrum_common.demo_data import DEMO_PASSWORD, METERS
from sts.keys import parse_vending_key
from sts.meter import MeterSimulator
from tests.fixtures.demo_meters import demo_decoder_key

from .conftest import Api, error_codes

ISSUE = """mutation($m: String!, $k: ManagementTokenKind!, $v: Int) {
  issueManagementToken(meterNumber: $m, kind: $k, value: $v) { token kind value meter { number holderName } } }"""


def _sign_in(api: Api, email: str) -> str:
    return api.data(
        "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }",
        {"e": email, "p": DEMO_PASSWORD},
    )["signIn"]["token"]


def test_admin_issues_management_tokens_that_the_meter_accepts(api: Api) -> None:
    admin = _sign_in(api, "admin@setrum.id")
    meter = next(m for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014 and m.power_va == 2200)
    key = demo_decoder_key(meter.number, parse_vending_key(DEV_VENDING_KEY))
    simulator = MeterSimulator(key)
    issued = api.data(ISSUE, {"m": meter.number, "k": "SET_MAX_POWER", "v": 2200}, admin)["issueManagementToken"]
    assert issued["meter"]["holderName"] == meter.holder_name  # resolved by master through the router
    assert simulator.enter(issued["token"]).outcome.value == "ACCEPTED"
    tamper = api.data(ISSUE, {"m": meter.number, "k": "CLEAR_TAMPER", "v": None}, admin)["issueManagementToken"]
    assert simulator.enter(tamper["token"]).outcome.value == "ACCEPTED"
    assert simulator.enter(tamper["token"]).outcome.value == "USED"


def test_customers_cannot_issue_management_tokens(api: Api) -> None:
    # The router refuses first (@policy admin on the field); transactions' own admin check is the second line.
    customer = _sign_in(api, "siti@example.id")
    body = api(ISSUE, {"m": "14233784991", "k": "CLEAR_CREDIT", "v": None}, customer)
    assert error_codes(body) == ["UNAUTHORIZED_FIELD_OR_TYPE"] and body["data"] is None
    anonymous = api(ISSUE, {"m": "14233784991", "k": "CLEAR_CREDIT", "v": None})
    assert error_codes(anonymous) == ["UNAUTHORIZED_FIELD_OR_TYPE"]


ADMIN_READS = """query {
  customers(first: 1) { email }
  walletReconciliation { ok }
  salesByDay(from: "2026-01-01", to: "2026-01-02") { count }
  denominations { amount }
  me { email }
}"""


def test_a_customer_token_cannot_read_admin_fields_through_the_router(api: Api) -> None:
    customer = _sign_in(api, "siti@example.id")
    body = api(ADMIN_READS, token=customer)
    # Non-null admin fields make the whole data null; the errors name each refused field.
    assert body["data"] is None
    assert sorted((e["path"][0], e["extensions"]["code"]) for e in body["errors"]) == [
        ("customers", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("salesByDay", "UNAUTHORIZED_FIELD_OR_TYPE"),
        ("walletReconciliation", "UNAUTHORIZED_FIELD_OR_TYPE"),
    ]
    # A refused nullable field is null next to what the caller may see (anonymous: me is @authenticated).
    anonymous = api("query { me { email } denominations { amount } }")
    assert anonymous["data"]["me"] is None and anonymous["data"]["denominations"]
    assert [(e["path"], e["extensions"]["code"]) for e in anonymous["errors"]] == [
        (["me"], "UNAUTHORIZED_FIELD_OR_TYPE")
    ]
    admin = api.data(ADMIN_READS, token=_sign_in(api, "admin@setrum.id"))
    assert admin["customers"] and isinstance(admin["walletReconciliation"]["ok"], bool) and admin["me"]["email"]
