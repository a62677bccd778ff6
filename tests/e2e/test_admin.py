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
    customer = _sign_in(api, "siti@example.id")
    body = api(ISSUE, {"m": "14233784991", "k": "CLEAR_CREDIT", "v": None}, customer)
    assert error_codes(body) == ["FORBIDDEN"]
    assert error_codes(api(ISSUE, {"m": "14233784991", "k": "CLEAR_CREDIT", "v": None})) == ["UNAUTHENTICATED"]
