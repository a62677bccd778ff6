"""STS management tokens (IEC 62055-41 class 2) through GraphQL, issued by the REAL biller in-process.

Each token is checked with the meter simulator holding the meter's own decoder key, derived here
independently of the biller from the development vending key and the demo register's parameters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from biller import settings as biller_settings
from biller.app import create_app as create_biller_app
from biller.settings import BillerSettings
from setrum_common.clock import JAKARTA
from setrum_common.demo_data import ADMIN, METERS
from setrum_common.settings import DEV_JWT_SECRET
from sts.keys import parse_vending_key
from sts.meter import MeterSimulator, Outcome
from sts.tid import base_date_for_year
from sts.tokens import ManagementKind, TokenClass
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import TransactionsSettings
from tests.fixtures.demo_meters import demo_decoder_key
from tests.service_keys import service_role_token

from .conftest import SITI, GraphQL, error_code
from .fakes import FakeMaster

ISSUE = """mutation($meter: String!, $kind: ManagementTokenKind!, $value: Int) {
  issueManagementToken(meterNumber: $meter, kind: $kind, value: $value) {
    id meterNumber kind value token formattedToken issuedAt issuedBy meter { number }
  }
}"""
LIST = """query($meter: String!, $first: Int) {
  managementTokens(meterNumber: $meter, first: $first) { id meterNumber kind value token issuedBy }
}"""

ACTIVE_2014 = next(m for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014)
METER_1993 = next(m for m in METERS if m.sts_base_date == 1993)


def simulator(number: str) -> MeterSimulator:
    demo = next(m for m in METERS if m.number == number)
    key = demo_decoder_key(number, parse_vending_key(biller_settings.DEV_VENDING_KEY))
    return MeterSimulator(key, base=base_date_for_year(demo.sts_base_date))


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[tuple[GraphQL, Starlette]]:
    biller = create_biller_app(BillerSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/b.db", seed_demo_data=True))
    app = create_app(
        TransactionsSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db",
            master_url="http://master.test/graphql",
            biller_url="http://biller.test",
        ),
        master_transport=httpx.MockTransport(FakeMaster().handle),
        biller_transport=httpx.ASGITransport(app=biller),
    )
    async with (
        biller.router.lifespan_context(biller),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tx.test") as http,
    ):
        yield GraphQL(http), app


async def issue(
    gql: GraphQL, kind: str, value: int | None = None, *, meter: str = ACTIVE_2014.number, as_: str | None = ADMIN.id
) -> dict[str, Any]:
    return await gql(ISSUE, {"meter": meter, "kind": kind, "value": value}, as_=as_)


async def test_set_max_power_token_is_class_2_subclass_0_with_the_limit(system: tuple[GraphQL, Starlette]) -> None:
    gql, _ = system
    result = await issue(gql, "SET_MAX_POWER", 2200)
    assert result.get("errors") is None, result
    token = result["data"]["issueManagementToken"]
    assert (token["meterNumber"], token["kind"], token["value"], token["issuedBy"]) == (
        ACTIVE_2014.number,
        "SET_MAX_POWER",
        2200,
        ADMIN.id,
    )
    assert len(token["token"]) == 20 and token["token"].isdigit()
    assert token["formattedToken"].replace("-", "") == token["token"]
    assert token["meter"] == {"number": ACTIVE_2014.number}

    meter = simulator(ACTIVE_2014.number)
    answer = meter.enter(token["token"])
    assert answer.outcome is Outcome.ACCEPTED, answer.message
    assert answer.token is not None
    assert (answer.token.token_class, answer.token.subclass) == (TokenClass.MANAGEMENT, ManagementKind.SET_MAX_POWER)
    assert answer.token.max_power_watts == 2200 and meter.max_power_watts == 2200
    # The same token twice is refused by the meter (its TID is used).
    assert meter.enter(token["token"]).outcome is Outcome.USED


async def test_clear_credit_and_clear_tamper_tokens_are_accepted(system: tuple[GraphQL, Starlette]) -> None:
    gql, _ = system
    meter = simulator(ACTIVE_2014.number)
    meter.credit_tenths, meter.tampered = 675, True

    clear_credit = (await issue(gql, "CLEAR_CREDIT"))["data"]["issueManagementToken"]
    clear_tamper = (await issue(gql, "CLEAR_TAMPER"))["data"]["issueManagementToken"]
    assert clear_credit["value"] is None and clear_tamper["value"] is None

    first = meter.enter(clear_credit["token"])
    assert first.accepted and first.token is not None
    assert (first.token.token_class, first.token.subclass) == (TokenClass.MANAGEMENT, ManagementKind.CLEAR_CREDIT)
    assert meter.credit_tenths == 0 and meter.tampered

    second = meter.enter(clear_tamper["token"])
    assert second.accepted and second.token is not None
    assert (second.token.token_class, second.token.subclass) == (TokenClass.MANAGEMENT, ManagementKind.CLEAR_TAMPER)
    assert not meter.tampered
    # Each token has its own TID, so the meter takes both.
    assert first.token.tid != second.token.tid


async def test_token_for_another_meter_fails_the_crc(system: tuple[GraphQL, Starlette]) -> None:
    gql, _ = system
    token = (await issue(gql, "CLEAR_TAMPER"))["data"]["issueManagementToken"]["token"]
    other = next(m for m in METERS if m.number != ACTIVE_2014.number and m.sts_base_date == 2014)
    assert simulator(other.number).enter(token).outcome is Outcome.CRC_ERROR


async def test_only_admins_may_issue_or_list(system: tuple[GraphQL, Starlette]) -> None:
    gql, _ = system
    assert error_code(await issue(gql, "CLEAR_TAMPER", as_=None)) == "UNAUTHENTICATED"
    assert error_code(await issue(gql, "CLEAR_TAMPER", as_=SITI)) == "FORBIDDEN"
    assert error_code(await gql(LIST, {"meter": ACTIVE_2014.number}, as_=SITI)) == "FORBIDDEN"
    assert error_code(await gql(LIST, {"meter": ACTIVE_2014.number})) == "UNAUTHENTICATED"
    # Nothing was issued by the refused calls.
    assert (await gql(LIST, {"meter": ACTIVE_2014.number}, as_=ADMIN.id))["data"]["managementTokens"] == []

    # The issue's attack: a SERVICE-role token issued a CLEAR_TAMPER token. It is nobody now.
    response = await gql.http.post(
        "/graphql",
        json={"query": ISSUE, "variables": {"meter": ACTIVE_2014.number, "kind": "CLEAR_TAMPER"}},
        headers={"authorization": f"Bearer {service_role_token(DEV_JWT_SECRET, subject='support-desk')}"},
    )
    assert error_code(response.json()) == "UNAUTHENTICATED"
    assert (await gql(LIST, {"meter": ACTIVE_2014.number}, as_=ADMIN.id))["data"]["managementTokens"] == []


async def test_listing_is_newest_first_per_meter_and_bounded(system: tuple[GraphQL, Starlette]) -> None:
    gql, _ = system
    issued = [
        (await issue(gql, "SET_MAX_POWER", 900))["data"]["issueManagementToken"],
        (await issue(gql, "CLEAR_CREDIT", 65535))["data"]["issueManagementToken"],
        (await issue(gql, "CLEAR_TAMPER"))["data"]["issueManagementToken"],
    ]
    listed = (await gql(LIST, {"meter": ACTIVE_2014.number}, as_=ADMIN.id))["data"]["managementTokens"]
    assert [t["id"] for t in listed] == [t["id"] for t in reversed(issued)]
    assert [(t["kind"], t["value"]) for t in listed] == [
        ("CLEAR_TAMPER", None),
        ("CLEAR_CREDIT", 65535),
        ("SET_MAX_POWER", 900),
    ]
    assert [t["token"] for t in listed] == [t["token"] for t in reversed(issued)]
    two = (await gql(LIST, {"meter": ACTIVE_2014.number, "first": 2}, as_=ADMIN.id))["data"]["managementTokens"]
    assert [t["id"] for t in two] == [t["id"] for t in listed[:2]]
    other = next(m for m in METERS if m.number != ACTIVE_2014.number)
    assert (await gql(LIST, {"meter": other.number}, as_=ADMIN.id))["data"]["managementTokens"] == []
    assert error_code(await gql(LIST, {"meter": ACTIVE_2014.number, "first": 0}, as_=ADMIN.id)) == "BAD_USER_INPUT"
    assert error_code(await gql(LIST, {"meter": "123"}, as_=ADMIN.id)) == "WRONG_DIGIT_COUNT"


@pytest.mark.parametrize(
    ("kind", "value"),
    [("SET_MAX_POWER", None), ("SET_MAX_POWER", 0), ("SET_MAX_POWER", -5), ("CLEAR_CREDIT", 7), ("CLEAR_TAMPER", 3)],
)
async def test_bad_values_are_refused_before_the_biller(
    system: tuple[GraphQL, Starlette], kind: str, value: int | None
) -> None:
    gql, _ = system
    assert error_code(await issue(gql, kind, value)) == "BAD_USER_INPUT"
    assert (await gql(LIST, {"meter": ACTIVE_2014.number}, as_=ADMIN.id))["data"]["managementTokens"] == []


async def test_biller_refusals_become_coded_errors(system: tuple[GraphQL, Starlette]) -> None:
    gql, _ = system
    unknown = await issue(gql, "CLEAR_TAMPER", meter="14233784990")
    assert error_code(unknown) == "WRONG_CUSTOMER_NUMBER"
    assert error_code(await issue(gql, "CLEAR_TAMPER", meter="1423")) == "WRONG_DIGIT_COUNT"
    # A meter still on the 1993 base date cannot take tokens dated now: it needs a key change first.
    stale = await issue(gql, "SET_MAX_POWER", 1300, meter=METER_1993.number)
    assert error_code(stale) == "KEY_CHANGE_REQUIRED"
    assert stale["errors"][0]["extensions"]["meterNumber"] == METER_1993.number
    assert "key change" in stale["errors"][0]["message"]
    for meter in ("14233784990", METER_1993.number):
        assert (await gql(LIST, {"meter": meter}, as_=ADMIN.id))["data"]["managementTokens"] == []


async def test_issued_tokens_are_counted_in_metrics(system: tuple[GraphQL, Starlette]) -> None:
    gql, _ = system
    await issue(gql, "CLEAR_TAMPER")
    await issue(gql, "CLEAR_TAMPER")
    await issue(gql, "CLEAR_TAMPER", as_=SITI)  # refused: not counted
    text = (await gql.http.get("/metrics")).text
    assert 'setrum_management_tokens_total{kind="CLEAR_TAMPER"} 2.0' in text
    assert 'setrum_management_tokens_total{kind="SET_MAX_POWER"} 0.0' in text


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (httpx.ConnectError("refused"), "SERVICE_UNAVAILABLE"),
        (httpx.ReadTimeout("slow"), "BILLER_TIMEOUT"),
        (httpx.Response(503, json={"code": "MAINTENANCE", "message": "cut-off"}), "BILLER_MAINTENANCE"),
        (httpx.Response(500, json={"code": "INTERNAL_SERVER_ERROR"}), "SERVICE_UNAVAILABLE"),
        (httpx.Response(200, json={"token": "12", "issuedAt": "2026-01-01T00:00:00+00:00"}), "SERVICE_UNAVAILABLE"),
    ],
)
async def test_an_unreachable_or_broken_biller_is_a_coded_error(
    tmp_path: Path, answer: httpx.Response | Exception, code: str
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/management-tokens"
        if isinstance(answer, Exception):
            raise answer
        return answer

    app = create_app(
        TransactionsSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db", biller_url="http://biller.test"),
        master_transport=httpx.MockTransport(FakeMaster().handle),
        biller_transport=httpx.MockTransport(handle),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tx.test") as http,
    ):
        gql = GraphQL(http)
        assert error_code(await issue(gql, "CLEAR_TAMPER")) == code
        assert (await gql(LIST, {"meter": ACTIVE_2014.number}, as_=ADMIN.id))["data"]["managementTokens"] == []


async def test_the_operator_sees_every_token_issued_in_a_period(system: tuple[GraphQL, Starlette]) -> None:
    gql, _ = system
    await issue(gql, "CLEAR_TAMPER")
    await issue(gql, "SET_MAX_POWER", 1300)
    today = datetime.now(JAKARTA).date().isoformat()
    query = "query($d: String!) { issuedManagementTokens(from: $d, to: $d) { kind meterNumber issuedBy } }"
    issued = (await gql(query, {"d": today}, as_=ADMIN.id))["data"]["issuedManagementTokens"]
    assert [t["kind"] for t in issued] == ["SET_MAX_POWER", "CLEAR_TAMPER"]  # newest first
    assert error_code(await gql(query, {"d": today}, as_=SITI)) == "FORBIDDEN"
    assert error_code(await gql(query, {"d": "yesterday"}, as_=ADMIN.id)) == "BAD_USER_INPUT"
