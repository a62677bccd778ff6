"""``POST /internal/quote``: the same quote as the GraphQL field, for services, as plain JSON.

Runs on SQLite, and on PostgreSQL too when ``SETRUM_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from setrum_common import demo_data as demo
from setrum_common.auth import Role, issue_customer_token
from setrum_common.quote_contract import InternalQuote
from subgraphs.master.app import create_app
from subgraphs.master.settings import MasterSettings
from tests.postgres import scratch_database
from tests.service_keys import service_role_token, signed_as

from .conftest import GraphQLClient, error_codes

QUOTE = """
query($m: String!, $d: Decimal!, $c: String) { quote(meterNumber: $m, denomination: $d, channel: $c) {
  meterNumber idpel holderName tariffCode powerVa regionCode monthlyKwhLimit channel
  nominal adminFee stampDuty instalment ppjRate ppj ppnRate ppn energyValue tariffRate kwh totalPaid instalmentDebtLeft instalmentPerPurchase instalmentDebt
} }
"""

ACTIVE = [m for m in demo.METERS if m.status == "ACTIVE"]
BLOCKED = next(m for m in demo.METERS if m.status == "BLOCKED")
WITH_INSTALMENT = next(m for m in ACTIVE if m.instalment > 0)


def _sample_meters() -> list[demo.DemoMeter]:
    """One active meter per (region, tariff class, VA), plus the one with an instalment."""
    seen: dict[tuple[str, str, int], demo.DemoMeter] = {}
    for meter in ACTIVE:
        seen.setdefault((meter.region, meter.tariff_code, meter.power_va), meter)
    return [*seen.values(), WITH_INSTALMENT][:40]


@dataclass
class Master:
    http: httpx.AsyncClient
    gql: GraphQLClient
    settings: MasterSettings

    def customer_token(self, customer: demo.DemoCustomer) -> str:
        return issue_customer_token(self.settings.jwt_secret.get_secret_value(), customer.id, Role(customer.role))[0]

    async def internal(self, body: Any, *, token: str | None = "service", raw: bytes | None = None) -> httpx.Response:
        """``token``: "service" signs as transactions does; another string goes as a bearer token."""
        headers = {"content-type": "application/json"}
        content = raw if raw is not None else orjson.dumps(body)
        if token == "service":
            headers.update(signed_as("transactions", "master", "POST", "/internal/quote", content))
        elif token is not None:
            headers["authorization"] = f"Bearer {token}"
        return await self.http.post("/internal/quote", content=content, headers=headers)


@pytest.fixture(params=["sqlite", "postgres"])
async def master(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Master]:
    async def run(url: str) -> AsyncIterator[Master]:
        settings = MasterSettings(database_url=url, seed_demo_data=True)
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://master.test") as http,
        ):
            yield Master(http, GraphQLClient(http), settings)

    if request.param == "sqlite":
        async for m in run(f"sqlite+aiosqlite:///{tmp_path / 'master.db'}"):
            yield m
    else:
        async with scratch_database("setrum_master_quote") as url:
            async for m in run(url.replace("postgresql://", "postgresql+asyncpg://", 1)):
                yield m


def _error(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert "Traceback" not in response.text
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str) and body["error"]["message"]
    return response.status_code, body["error"]["code"]


async def test_internal_quote_answers_what_graphql_answers(master: Master) -> None:
    compared: list[dict[str, Any]] = []
    for meter in _sample_meters():
        for amount in ("20000", "100000", "10000000"):
            for channel in (None, "setrum-agent"):
                variables = {"m": meter.number, "d": amount, "c": channel}
                result = await master.gql(QUOTE, variables)
                response = await master.internal(
                    {"meterNumber": meter.number, "denomination": amount, "channel": channel}
                )
                if "errors" in result:  # e.g. an instalment larger than 20,000: refused the same way
                    assert _error(response)[1] == error_codes(result)[0], (variables, result)
                    continue
                assert response.status_code == 200, response.text
                body = response.json()
                assert datetime.fromisoformat(body.pop("quotedAt")).tzinfo is not None
                assert body == result["data"]["quote"], variables
                assert isinstance(body["powerVa"], int)
                compared.append(body)
    # The comparison covered every part of the price, not only the easy cases.
    for field in ("ppj", "ppn", "stampDuty", "instalment"):
        assert any(Decimal(q[field]) > 0 for q in compared), field
    assert len({q["ppjRate"] for q in compared}) >= 3
    assert {q["adminFee"] for q in compared} == {"2500.00", "3500.00"}


async def test_internal_quote_worked_example_and_idpel(master: Master) -> None:
    siti = demo.METERS[0]
    for number in (siti.number, siti.idpel):
        response = await master.internal({"meterNumber": number, "denomination": "100000", "channel": None})
        assert response.status_code == 200, response.text
        q = response.json()
        assert q["meterNumber"] == siti.number
        assert (q["energyValue"], q["ppj"], q["ppn"], q["kwh"], q["totalPaid"]) == (
            "97656.25",
            "2343.75",
            "0.00",
            "67.5",
            "102500.00",
        )
        assert (q["channel"], q["monthlyKwhLimit"], q["powerVa"]) == (demo.DEFAULT_CHANNEL, "936.0", 1300)
    # An integer denomination is as good as its string.
    as_int = await master.internal({"meterNumber": siti.number, "denomination": 100000})
    assert as_int.status_code == 200 and as_int.json()["kwh"] == "67.5"


async def test_internal_quote_wire_shape_is_pinned(master: Master) -> None:
    """The JSON master sends and transactions reads, field by field: InternalQuote extends PriceBreakdown, so a
    change to either model shows here as a change of the wire contract between the two services."""
    siti = demo.METERS[0]
    response = await master.internal({"meterNumber": siti.number, "denomination": "100000", "channel": None})
    assert response.status_code == 200, response.text
    body = response.json()
    quoted_at = body.pop("quotedAt")
    assert datetime.fromisoformat(quoted_at).utcoffset() == timedelta(0)
    assert body == {
        "nominal": "100000.00",
        "adminFee": "2500.00",
        "stampDuty": "0.00",
        "instalment": "0.00",
        "ppjRate": "0.024",
        "ppj": "2343.75",
        "ppnRate": "0",
        "ppn": "0.00",
        "energyValue": "97656.25",
        "tariffRate": "1444.70",
        "kwh": "67.5",
        "totalPaid": "102500.00",
        "meterNumber": siti.number,
        "idpel": siti.idpel,
        "holderName": "Siti Rahmawati",
        "tariffCode": "R1",
        "powerVa": 1300,
        "regionCode": "DKI",
        "monthlyKwhLimit": "936.0",
        "channel": demo.DEFAULT_CHANNEL,
        "instalmentPerPurchase": "0.00",
        "instalmentDebt": "0.00",
        "instalmentDebtLeft": "0.00",
    }
    # Transactions' side of the contract reads it back to the same JSON.
    quote = InternalQuote.model_validate_json(response.content)
    assert orjson.loads(quote.model_dump_json(by_alias=True)) == {**body, "quotedAt": quoted_at}


async def test_internal_quote_follows_tariff_versions(master: Master) -> None:
    admin = master.gql.as_(master.customer_token(demo.ADMIN))
    upsert = "mutation($i: TariffInput!) { upsertTariff(input: $i) { rate } }"
    now = datetime.now(UTC)
    r1 = next(t for t in demo.TARIFFS if t.code == "R1" and t.min_va <= 1300 and (t.max_va or 10**9) >= 1300)
    new = {
        "code": "R1",
        "rate": "2000.00",
        "minVa": r1.min_va,
        "maxVa": r1.max_va,
        "effectiveFrom": (now - timedelta(seconds=5)).isoformat(),
    }
    assert "errors" not in await admin(upsert, {"i": new})
    later = {**new, "rate": "3000.00", "effectiveFrom": (now + timedelta(days=1)).isoformat()}
    assert "errors" not in await admin(upsert, {"i": later})
    response = await master.internal({"meterNumber": demo.METERS[0].number, "denomination": "100000"})
    assert response.json()["tariffRate"] == "2000.00"  # the version in effect now, not the later one


async def test_internal_quote_needs_a_service_token(master: Master) -> None:
    body = {"meterNumber": demo.METERS[0].number, "denomination": "100000"}
    for token in (
        None,
        "not-a-jwt",
        service_role_token(master.settings.jwt_secret.get_secret_value()),
        master.customer_token(demo.CUSTOMERS[1]),
        master.customer_token(demo.ADMIN),
    ):
        assert _error(await master.internal(body, token=token)) == (401, "UNAUTHENTICATED"), token
    basic = await master.http.post("/internal/quote", json=body, headers={"authorization": "Basic abc"})
    assert _error(basic) == (401, "UNAUTHENTICATED")


async def test_internal_quote_domain_errors(master: Master) -> None:
    siti = demo.METERS[0].number
    cases = [
        ({"meterNumber": "99999999990", "denomination": "100000"}, (404, "WRONG_CUSTOMER_NUMBER")),
        ({"meterNumber": "99999999999", "denomination": "100000"}, (404, "WRONG_CHECK_DIGIT")),
        ({"meterNumber": "599999999999", "denomination": "100000"}, (404, "WRONG_CUSTOMER_NUMBER")),
        ({"meterNumber": BLOCKED.number, "denomination": "100000"}, (422, "CUSTOMER_BLOCKED")),
        ({"meterNumber": BLOCKED.idpel, "denomination": "100000"}, (422, "CUSTOMER_BLOCKED")),
        ({"meterNumber": siti, "denomination": "12345"}, (422, "PRODUCT_UNAVAILABLE")),
        ({"meterNumber": siti, "denomination": "100000.001"}, (400, "AMOUNT_NOT_WHOLE_RUPIAH")),
        ({"meterNumber": siti, "denomination": "-100000"}, (400, "AMOUNT_NOT_DIGITS")),
        ({"meterNumber": siti, "denomination": "NaN"}, (400, "AMOUNT_NOT_DIGITS")),
        ({"meterNumber": siti, "denomination": "1e400"}, (400, "AMOUNT_NOT_DIGITS")),
        ({"meterNumber": siti, "denomination": "0"}, (400, "AMOUNT_OUT_OF_RANGE")),
        ({"meterNumber": "123", "denomination": "100000"}, (400, "WRONG_DIGIT_COUNT")),
        ({"meterNumber": "1423378499a", "denomination": "100000"}, (400, "WRONG_DIGIT_COUNT")),
        ({"meterNumber": siti, "denomination": "100000", "channel": "nope"}, (400, "BAD_USER_INPUT")),
    ]
    for body, expected in cases:
        assert _error(await master.internal(body)) == expected, body


async def test_internal_quote_rejects_malformed_requests(master: Master) -> None:
    siti = demo.METERS[0].number
    for raw in (b"{not json", b"", b"[1, 2]", b'"text"', b"x" * 10_000):
        assert _error(await master.internal(None, raw=raw)) == (400, "BAD_USER_INPUT"), raw[:20]
    for body in (
        {"denomination": "100000"},
        {"meterNumber": siti},
        {"meterNumber": 14233784991, "denomination": "100000"},
        {"meterNumber": siti, "denomination": 100000.5},
        {"meterNumber": siti, "denomination": True},
        {"meterNumber": siti, "denomination": "abc"},
        {"meterNumber": siti, "denomination": "100000", "channel": 7},
    ):
        assert _error(await master.internal(body)) == (400, "BAD_USER_INPUT"), body
    assert (await master.http.get("/internal/quote")).status_code == 405


async def test_internal_quote_counts_the_instalments_already_paid(master: Master) -> None:
    meter = next(m for m in demo.METERS if m.instalment > 0)  # Rp 5,000 a purchase, Rp 20,000 owed
    body = {"meterNumber": meter.number, "denomination": "50000", "instalmentPaid": "17000"}
    answer = (await master.internal(body)).json()
    assert (answer["instalment"], answer["instalmentDebtLeft"]) == ("3000.00", "0.00")
    assert _error(await master.internal({**body, "instalmentPaid": "-1"})) == (400, "BAD_USER_INPUT")
