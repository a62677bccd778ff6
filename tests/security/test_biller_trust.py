"""The biller trusts no figure, no replay and no test switch of its caller (issue 11, item 4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from biller.settings import BillerSettings
from tests.biller.conftest import METER, FrozenClock, SignedClient, make_settings, sale_body, serve, simulator_for
from tests.service_keys import production_key_settings, signed_as


async def test_energy_is_priced_from_the_money_not_taken_from_the_request(biller: SignedClient) -> None:
    # The attack of issue 11: 10,000.4 kWh for nothing.
    free = {"reference": "free", "meterNumber": METER, "kwhTenths": 99999, "amount": "0"}
    response = await biller.request("POST", "/v1/purchases", free)
    assert response.status_code == 422 and response.json()["code"] == "AMOUNT_MISMATCH"
    # Rp 100,000 on R1 / 1,300 VA (Rp 1,444.70/kWh) buys at most 69.2 kWh, however the request is dressed.
    for body in (
        {**sale_body("more", amount="100000"), "kwhTenths": 99999},
        {**sale_body("one-more", amount="100000"), "kwhTenths": 676},  # the honest quote is 67.5
        {"reference": "untaxed", "meterNumber": METER, "kwhTenths": 693, "amount": "100000"},
    ):
        response = await biller.request("POST", "/v1/purchases", body)
        assert response.status_code == 422 and response.json()["code"] == "KWH_MISMATCH", body
    # Deductions a caller invents cannot be negative, and PPJ/PPN cannot be bent to buy more.
    for body, code in (
        ({**sale_body("neg", amount="100000"), "ppj": "-5000"}, "BAD_USER_INPUT"),
        ({**sale_body("ppn", amount="100000"), "ppn": "1000"}, "TAX_MISMATCH"),  # R1 pays no PPN
        ({**sale_body("ppj", amount="100000"), "ppj": "20000"}, "TAX_MISMATCH"),  # above the 10 % cap
    ):
        response = await biller.request("POST", "/v1/purchases", body)
        assert response.json()["code"] == code, body
    assert (await biller.status("free")).status_code == 404  # nothing was stored or sold
    # The honest request (the worked example: PPJ Jakarta 2.4 %) sells exactly 67.5 kWh.
    sold = await biller.purchase("honest", amount="100000")
    assert sold["kwh"] == "67.5"
    assert simulator_for(METER).enter(sold["token"]).credited_tenths == 675


async def test_a_replayed_signed_management_request_issues_one_token(biller: SignedClient) -> None:
    body = orjson.dumps({"meterNumber": METER, "kind": "CLEAR_TAMPER", "value": None, "reference": "mt-1"})
    headers = {
        "content-type": "application/json",
        **signed_as("transactions", "biller", "POST", "/v1/management-tokens", body),
    }
    answers = [await biller.http.post("/v1/management-tokens", content=body, headers=headers) for _ in range(5)]
    assert answers[0].status_code == 200
    assert [a.status_code for a in answers[1:]] == [401] * 4
    assert {a.json()["message"] for a in answers[1:]} == {"This service token was used already"}


async def test_a_retried_management_token_is_the_same_token_and_spends_no_tid(biller: SignedClient) -> None:
    request = {"meterNumber": METER, "kind": "SET_MAX_POWER", "value": 2000, "reference": "mt-retry"}
    first, *retries = await asyncio.gather(
        *(biller.request("POST", "/v1/management-tokens", request) for _ in range(4))
    )
    assert first.status_code == 200 and all(r.json() == first.json() for r in retries)
    after = (await biller.request("POST", "/v1/management-tokens", {**request, "reference": "mt-next"})).json()
    meter = simulator_for(METER)
    assert meter.enter(first.json()["token"]).accepted
    assert meter.enter(after["token"]).accepted  # the next one took the next TID, nothing was skipped
    # The same reference for another request is refused, not answered with the first token.
    other = await biller.request("POST", "/v1/management-tokens", {**request, "value": 3000})
    assert other.status_code == 409 and other.json()["code"] == "DUPLICATE_REFERENCE"
    missing = await biller.request(
        "POST", "/v1/management-tokens", {k: v for k, v in request.items() if k != "reference"}
    )
    assert missing.status_code == 400


async def test_fault_switches_are_absent_unless_enabled(tmp_path: Path, clock: FrozenClock) -> None:
    async with serve(make_settings(tmp_path / "b.db", faults_enabled=False), clock) as biller:
        response = await biller.request("PUT", "/v1/faults", {"mode": "fail"})
        assert response.status_code == 404
        assert (await biller.request("DELETE", "/v1/faults")).status_code == 404
        assert (await biller.purchase("after")).get("status") == "SUCCESS"


def test_production_refuses_fault_switches(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BILLER_FAULTS_ENABLED"):
        BillerSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/b.db", environment="production", faults_enabled=True,
            vending_key="3A7C19E0B45D28F6", jwt_secret="y" * 40, **production_key_settings("biller"),
        )  # fmt: skip
