from __future__ import annotations

import uuid

from sts.meter import Outcome
from sts.tokens import parse_token

from .conftest import METER, SignedClient, simulator_for


async def _token(biller: SignedClient, kind: str, value: int | None = None) -> str:
    response = await biller.request(
        "POST",
        "/v1/management-tokens",
        {"meterNumber": METER, "kind": kind, "value": value, "reference": uuid.uuid4().hex},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token", "issuedAt"}
    return body["token"]


async def test_management_tokens_work_on_the_meter(biller: SignedClient) -> None:
    meter = simulator_for(METER)
    meter.tampered = True
    credit = await biller.purchase("m-1", tenths=500)
    assert meter.enter(credit["token"]).accepted

    assert meter.enter(await _token(biller, "SET_MAX_POWER", 1300)).accepted
    assert meter.max_power_watts == 1300
    assert meter.enter(await _token(biller, "CLEAR_TAMPER")).accepted
    assert meter.tampered is False
    clear = await _token(biller, "CLEAR_CREDIT")
    assert meter.enter(clear).accepted
    assert meter.credit_tenths == 0
    assert meter.enter(clear).outcome is Outcome.USED


async def test_management_and_credit_tokens_share_strictly_increasing_tids(biller: SignedClient) -> None:
    meter = simulator_for(METER)
    tokens = [
        (await biller.purchase("share-1"))["token"],
        await _token(biller, "SET_MAX_POWER", 2200),
        (await biller.purchase("share-2"))["token"],
    ]
    tids = [parse_token(t, meter.decoder_key, meter.base).tid for t in tokens]
    assert tids == sorted(set(tids))


async def test_management_errors(biller: SignedClient) -> None:
    unknown = await biller.request(
        "POST",
        "/v1/management-tokens",
        {"meterNumber": "99999999999", "kind": "CLEAR_TAMPER", "value": None, "reference": "u"},
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "UNKNOWN_METER")
    for body in (
        {"meterNumber": METER, "kind": "REBOOT", "value": None, "reference": "bad"},
        {"meterNumber": METER, "kind": "SET_MAX_POWER", "value": None, "reference": "bad"},
        {"meterNumber": METER, "kind": "CLEAR_TAMPER", "value": 3, "reference": "bad"},
    ):
        response = await biller.request("POST", "/v1/management-tokens", body)
        assert response.status_code == 400, body
