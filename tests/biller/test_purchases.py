"""Purchases through the ASGI app: real tokens, idempotency, signatures, errors."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from setrum_common.trust.service_keys import ServiceKeyring, development_private_key
from sts.meter import Outcome
from sts.tid import base_date_for_year
from sts.tokens import parse_token
from tests.service_keys import signed_as

from .conftest import (
    BLOCKED_METER,
    METER,
    METER_1993,
    OTHER_METER,
    FrozenClock,
    SignedClient,
    sale_body,
    simulator_for,
)


async def test_purchase_gives_a_token_the_meter_accepts(biller: SignedClient) -> None:
    answer = await biller.purchase("ref-1", tenths=675)
    assert answer["status"] == "SUCCESS"
    assert answer["reference"] == "ref-1"
    assert answer["kwh"] == "67.5"
    assert answer["code"] is None
    assert answer["billerReference"]
    assert datetime.fromisoformat(answer["issuedAt"]).tzinfo is not None
    meter = simulator_for(METER)
    result = meter.enter(answer["token"])
    assert result.outcome is Outcome.ACCEPTED
    assert meter.credit_kwh == Decimal("67.5")
    # Entered again, a meter refuses it.
    assert meter.enter(answer["token"]).outcome is Outcome.USED
    # The token is for this meter only.
    assert simulator_for(OTHER_METER).enter(answer["token"]).outcome is Outcome.CRC_ERROR


async def test_large_amount_reports_what_the_token_carries(biller: SignedClient) -> None:
    answer = await biller.purchase("big", tenths=163840)
    assert answer["kwh"] == "16384.4"  # the STS amount field's rounding above 1638.3 kWh
    meter = simulator_for(METER)
    assert meter.enter(answer["token"]).credited_kwh == Decimal("16384.4")


async def test_replay_returns_the_same_outcome(biller: SignedClient) -> None:
    first = await biller.purchase("ref-replay")
    again = await biller.purchase("ref-replay", amount="100000.00")  # same amount, other spelling
    assert again == first
    status = await biller.status("ref-replay")
    assert status.status_code == 200
    assert status.json() == first


async def test_mismatched_replay_is_409(biller: SignedClient) -> None:
    await biller.purchase("ref-dup")
    for body in (  # each one the biller would sell on its own, but not under this reference
        sale_body("ref-dup", meter=OTHER_METER),
        sale_body("ref-dup", tenths=676),
        sale_body("ref-dup", amount="50000"),
    ):
        response = await biller.request("POST", "/v1/purchases", body)
        assert response.status_code == 409
        assert response.json()["code"] == "DUPLICATE_REFERENCE"


async def test_unknown_and_blocked_meters_fail(biller: SignedClient) -> None:
    unknown = await biller.purchase("ref-unknown", meter="99999999999")
    assert (unknown["status"], unknown["code"], unknown["token"]) == ("FAILED", "UNKNOWN_METER", None)
    blocked = await biller.purchase("ref-blocked", meter=BLOCKED_METER)
    assert (blocked["status"], blocked["code"]) == ("FAILED", "METER_BLOCKED")
    # A stored failure is the answer for that reference from now on.
    assert (await biller.status("ref-unknown")).json() == unknown


async def test_unknown_reference_is_404(biller: SignedClient) -> None:
    response = await biller.status("never-seen")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


async def test_unsigned_and_badly_signed_requests_are_401(biller: SignedClient) -> None:
    body = {"reference": "ref-unsigned", "meterNumber": METER, "kwhTenths": 10, "amount": "1000"}
    unsigned = await biller.request("POST", "/v1/purchases", body, sign=False)
    assert unsigned.status_code == 401
    assert unsigned.json()["code"] == "UNAUTHENTICATED"
    # Signed with another key under transactions' name.
    impostor = ServiceKeyring("transactions", development_private_key("users"), {})
    assert (await SignedClient(biller.http, keyring=impostor).request("POST", "/v1/purchases", body)).status_code == 401
    # A signature made for another body does not cover this one.
    header = signed_as("transactions", "biller", "POST", "/v1/purchases", b'{"reference":"x"}')
    tampered = await biller.http.post("/v1/purchases", json=body, headers=header)
    assert tampered.status_code == 401
    for method, path in (("GET", "/v1/purchases/x"), ("PUT", "/v1/faults"), ("DELETE", "/v1/faults"),
                         ("POST", "/v1/management-tokens")):  # fmt: skip
        assert (await biller.request(method, path, {"mode": "fail"}, sign=False)).status_code == 401
    # Nothing was sold by the refused requests.
    assert (await biller.status("ref-unsigned")).status_code == 404
    assert (await biller.http.get("/health")).json()["status"] == "UP"


async def test_bad_input_is_400(biller: SignedClient) -> None:
    cases = [
        {"meterNumber": METER, "kwhTenths": 10, "amount": "1"},
        {"reference": "r", "meterNumber": METER, "kwhTenths": 0, "amount": "1"},
        {"reference": "r", "meterNumber": METER, "kwhTenths": 18201625, "amount": "1"},
        {"reference": "r", "meterNumber": METER, "kwhTenths": "10", "amount": "1"},
        {"reference": "r", "meterNumber": METER, "kwhTenths": 10, "amount": "ten"},
        {"reference": "r", "meterNumber": "abc", "kwhTenths": 10, "amount": "1"},
    ]
    for body in cases:
        response = await biller.request("POST", "/v1/purchases", body)
        assert response.status_code == 400, body
        assert response.json()["code"] == "BAD_USER_INPUT"
    raw = signed_as("transactions", "biller", "POST", "/v1/purchases", b"not json")
    response = await biller.http.post("/v1/purchases", content=b"not json", headers=raw)
    assert (response.status_code, response.json()) == (
        400,
        {"code": "BAD_USER_INPUT", "message": "the body is not JSON"},
    )
    raw = signed_as("transactions", "biller", "POST", "/v1/purchases", b"[1]")
    response = await biller.http.post("/v1/purchases", content=b"[1]", headers=raw)
    assert response.json() == {"code": "BAD_USER_INPUT", "message": "the body must be a JSON object"}


async def test_another_service_is_403_before_its_body_is_read(biller: SignedClient) -> None:
    header = signed_as("master", "biller", "POST", "/v1/purchases", b"not json")
    response = await biller.http.post("/v1/purchases", content=b"not json", headers=header)
    assert (response.status_code, response.json()["code"]) == (403, "FORBIDDEN")


async def test_1993_meter_gets_its_key_change_pair_with_the_token(biller: SignedClient, clock: FrozenClock) -> None:
    state = await biller.request("GET", f"/v1/meters/{METER_1993}")
    assert state.json()["keyChangeRequired"] is True
    assert state.json()["keyChange"] == {
        "reason": "base date 1993 ran out of token identifiers on 2024-11-24 20:16 UTC", "keyRevision": 2,
        "baseDate": 2014,
    }  # fmt: skip
    answer = await biller.purchase("ref-1993", meter=METER_1993, tenths=675)
    assert answer["status"] == "SUCCESS" and len(answer["keyChangeTokens"]) == 2
    assert await biller.purchase("ref-1993", meter=METER_1993, tenths=675) == answer  # a replay: the same three tokens
    # The meter, built independently with its old key on the 1993 base: the pair, then the token.
    meter = simulator_for(METER_1993)
    assert meter.enter(answer["token"]).outcome is Outcome.CRC_ERROR  # the token is under the new key
    first, second = answer["keyChangeTokens"]
    assert meter.enter(first).accepted and meter.enter(second).key_changed
    assert (meter.key_revision, meter.base) == (2, base_date_for_year(2014))
    result = meter.enter(answer["token"])
    assert result.credited_tenths == 675
    assert result.token is not None and result.token.issued_at == clock.now.replace(second=0)
    # The register moved to the new key: the next sale is a plain token the meter takes.
    after = (await biller.request("GET", f"/v1/meters/{METER_1993}")).json()
    assert (after["keyChangeRequired"], after["keyRevision"], after["baseDate"]) == (False, 2, 2014)
    second_sale = await biller.purchase("ref-1993-2", meter=METER_1993)
    assert second_sale["keyChangeTokens"] is None
    assert meter.enter(second_sale["token"]).accepted


async def test_only_one_of_concurrent_sales_carries_the_pair(biller: SignedClient) -> None:
    answers = await asyncio.gather(*(biller.purchase(f"kc-{i}", meter=METER_1993, tenths=10) for i in range(5)))
    carriers = [a for a in answers if a["keyChangeTokens"]]
    assert len(carriers) == 1 and all(a["status"] == "SUCCESS" for a in answers)
    meter = simulator_for(METER_1993)
    for token in carriers[0]["keyChangeTokens"]:
        assert meter.enter(token).accepted
    assert all(meter.enter(a["token"]).accepted for a in answers)
    assert meter.credit_tenths == 50


async def test_an_ordered_key_change_keeps_the_tid_sequence(biller: SignedClient) -> None:
    before = await biller.purchase("before-order")
    order = {"keyRevision": 3, "supplyGroupCode": "654321", "tariffIndex": "07", "reference": "order-1"}
    ordered = await biller.request("PUT", f"/v1/meters/{METER}/key-change", order)
    assert ordered.status_code == 200 and ordered.json()["keyChange"]["keyRevision"] == 3
    management = await biller.request(
        "POST",
        "/v1/management-tokens",
        {"meterNumber": METER, "kind": "CLEAR_TAMPER", "value": None, "reference": uuid.uuid4().hex},
    )
    assert (management.status_code, management.json()["code"]) == (409, "KEY_CHANGE_REQUIRED")
    sale = await biller.purchase("after-order")
    meter = simulator_for(METER)
    assert meter.enter(before["token"]).accepted
    first, second = sale["keyChangeTokens"]
    assert meter.enter(first).accepted and meter.enter(second).key_changed
    assert (meter.key_revision, meter.tariff_index, meter.base) == (3, "07", base_date_for_year(2014))
    assert meter.remembered_tids != ()  # no rollover: the meter still knows the earlier TIDs
    assert meter.enter(sale["token"]).accepted
    assert meter.credit_tenths == 1350
    # A retried order (its answer was lost) after the key change was sold orders nothing again.
    retried = await biller.request("PUT", f"/v1/meters/{METER}/key-change", order)
    assert retried.status_code == 200 and retried.json()["keyChange"] is None
    assert (await biller.purchase("after-retried-order"))["keyChangeTokens"] is None
    other = await biller.request("PUT", f"/v1/meters/{METER}/key-change", {**order, "keyRevision": 4})
    assert (other.status_code, other.json()["code"]) == (409, "DUPLICATE_REFERENCE")
    bad = await biller.request("PUT", f"/v1/meters/{METER}/key-change", {"keyRevision": 10, "reference": "o-2"})
    assert (bad.status_code, bad.json()["code"]) == (400, "BAD_USER_INPUT")
    unreferenced = await biller.request("PUT", f"/v1/meters/{METER}/key-change", {"keyRevision": 2})
    assert (unreferenced.status_code, unreferenced.json()["code"]) == (400, "BAD_USER_INPUT")
    unknown = await biller.request("PUT", "/v1/meters/99999999999/key-change", {"keyRevision": 2, "reference": "o-3"})
    assert unknown.status_code == 404


async def test_1993_meter_before_the_rollover_needs_no_key_change(biller: SignedClient, clock: FrozenClock) -> None:
    clock.now = datetime(2024, 11, 24, 20, 14, tzinfo=UTC)
    ok = await biller.purchase("ref-1993-early", meter=METER_1993)
    assert ok["status"] == "SUCCESS" and ok["keyChangeTokens"] is None
    meter = simulator_for(METER_1993)
    result = meter.enter(ok["token"])
    assert result.accepted
    assert result.token is not None and result.token.issued_at == datetime(2024, 11, 24, 20, 14, tzinfo=UTC)


async def test_tids_follow_the_clock_and_never_repeat(biller: SignedClient, clock: FrozenClock) -> None:
    meter = simulator_for(METER)
    first = await biller.purchase("t-1")
    second = await biller.purchase("t-2")  # same minute: bumped to the next one
    clock.advance(minutes=30)
    third = await biller.purchase("t-3")
    tids = [parse_token(a["token"], meter.decoder_key, meter.base).tid for a in (first, second, third)]
    assert tids[1] == tids[0] + 1
    assert tids[2] == tids[0] + 30


async def test_the_log_shows_each_token_once(biller: SignedClient, caplog: pytest.LogCaptureFixture) -> None:
    # A replay rolls back a tentative sale; only committed outcomes reach the log.
    caplog.set_level(logging.INFO, logger="setrum.biller")
    sold = await biller.purchase("log-1")
    for _ in range(3):
        assert await biller.purchase("log-1") == sold
    await biller.purchase("log-unknown", meter="99999999999")
    await biller.purchase("log-unknown", meter="99999999999")
    messages = [r.getMessage() for r in caplog.records if r.name == "setrum.biller"]
    issued = [m for m in messages if m.startswith("issued token reference=log-1 ")]
    assert len(issued) == 1
    assert f"meter={METER}" in issued[0] and "kwh=67.5" in issued[0]
    assert sum(m.startswith("purchase failed reference=log-unknown ") for m in messages) == 1


async def test_sales_of_a_day_for_settlement(biller: SignedClient, clock: FrozenClock) -> None:
    # 2026-03-01 08:00 UTC is 15:00 in Jakarta; 17:30 UTC is already 2026-03-02 00:30 there.
    await biller.purchase("day-1", amount="100000")
    await biller.fault("fail", meterNumber=OTHER_METER)
    await biller.purchase("day-2", meter=OTHER_METER, amount="50000")
    clock.advance(hours=9, minutes=30)
    await biller.purchase("next-day", amount="20000")
    day = (await biller.request("GET", "/v1/sales/2026-03-01")).json()
    assert day["date"] == "2026-03-01"
    assert [(p["reference"], p["status"], p["amount"]) for p in day["purchases"]] == [
        ("day-1", "SUCCESS", "100000"), ("day-2", "FAILED", "50000"),
    ]  # fmt: skip
    later = (await biller.request("GET", "/v1/sales/2026-03-02")).json()
    assert [p["reference"] for p in later["purchases"]] == ["next-day"]
    bad = await biller.request("GET", "/v1/sales/yesterday")
    assert (bad.status_code, bad.json()["code"]) == (400, "BAD_USER_INPUT")


async def test_a_days_sales_come_in_pages(biller: SignedClient) -> None:
    """A busy day (a storm sells 40,000) is more than one answer: pages of ``limit``, each giving the
    ``after`` of the next, until ``next`` is null; together they are the whole day, once each."""
    for n in range(5):
        await biller.purchase(f"page-{n}", amount="20000")
    seen: list[str] = []
    after = None
    for _ in range(5):
        answer = await biller.request("GET", "/v1/sales/2026-03-01?limit=2" + (f"&after={after}" if after else ""))
        assert answer.status_code == 200, answer.text
        page = answer.json()
        seen += [p["reference"] for p in page["purchases"]]
        assert page["truncated"] == (page["next"] is not None)
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == [f"page-{n}" for n in range(5)]
    for bad in ("limit=0", "limit=20001", "after=x", "after=-1"):
        answer = await biller.request("GET", f"/v1/sales/2026-03-01?{bad}")
        assert (answer.status_code, answer.json()["code"]) == (400, "BAD_USER_INPUT"), bad
