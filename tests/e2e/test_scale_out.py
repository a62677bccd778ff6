"""Scale-out: two routers and two replicas of every service against one PostgreSQL.

Correctness must not rest on process-local state: replayed client references across replicas
give one purchase and one charge, the monthly kWh cap holds when two replicas sell to the same
meter at once, TIDs stay unique per meter across two billers, and every wallet reconciles.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from setrum.launcher import System, SystemPorts
from setrum_common.demo_data import DEMO_PASSWORD, METERS
from tests.fixtures.demo_meters import demo_decoder_key

from .conftest import SERVICES, create_postgres_databases

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("SETRUM_TEST_POSTGRES_URL"), reason="SETRUM_TEST_POSTGRES_URL not set"),
]

BUY = """mutation($m: String!, $d: Decimal!, $r: String!) {
  purchaseToken(meterNumber: $m, denomination: $d, clientReference: $r) { id status token kwh totalPaid } }"""


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[System]]:
    # The routers share their store too (rate limits, APQ); each customer here buys in bursts well
    # beyond the default per-customer rule, which tests/security covers.
    database_urls = create_postgres_databases("setrum_scale", (*SERVICES, "router"))
    rules = [
        {
            "name": "purchases-per-customer",
            "fields": ["purchaseToken"],
            "per": "customer",
            "limit": 10_000,
            "window_s": 60,
        }
    ]
    systems: list[System] = []
    try:
        for index in range(2):
            data_dir: Path = tmp_path_factory.mktemp(f"replica-{index}")
            system = System(
                data_dir,
                ports=SystemPorts.free(),
                database_urls=database_urls,
                seed=index == 0,  # the first replica seeds; the second finds the data there
                log_dir=data_dir / "logs",
                extra_env={"ROUTER_RATE_LIMITS__RULES": json.dumps(rules)},
            )
            system.start(timeout_s=90)
            systems.append(system)
        yield systems
    finally:
        for system in systems:
            system.stop()


async def _post(client: httpx.AsyncClient, url: str, query: str, variables: dict, token: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(url, json={"query": query, "variables": variables}, headers=headers)
    return response.json()


async def _customer(client: httpx.AsyncClient, url: str, balance: int) -> str:
    email = f"so-{uuid.uuid4().hex[:10]}@example.id"
    body = await _post(
        client,
        url,
        "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
        {"i": {"name": "Scale Out", "email": email, "password": "kWh-token-2026!"}},
    )
    token = body["data"]["signUp"]["token"]
    await _post(
        client,
        url,
        "mutation($a: Decimal!, $r: String!) { topUpWallet(amount: $a, paymentReference: $r) { balance } }",
        {"a": str(balance), "r": uuid.uuid4().hex},
        token,
    )
    return token


def test_replayed_references_across_replicas_charge_once(replicas: list[System]) -> None:
    urls = [s.router_url for s in replicas]
    meters = [m.number for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014 and m.power_va >= 1300][:6]

    async def scenario() -> tuple[dict[str, dict], list[dict], dict[str, list[dict]]]:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=200)) as client:
            tokens = [await _customer(client, urls[i % 2], 2_000_000) for i in range(4)]
            jobs = []
            references: dict[str, list[dict]] = {}
            for c, token in enumerate(tokens):
                for n in range(6):
                    ref = f"so-{c}-{n}-{uuid.uuid4().hex[:6]}"
                    references[ref] = []
                    variables = {"m": meters[(c + n) % len(meters)], "d": "20000", "r": ref}
                    for attempt in range(4):  # the same reference, sent 4 times through both routers
                        jobs.append((ref, token, urls[attempt % 2], variables))
            results = await asyncio.gather(*(_post(client, url, BUY, v, t) for _, t, url, v in jobs))
            for (ref, *_), body in zip(jobs, results, strict=True):
                references[ref].append(body)
            wallets = [
                await _post(
                    client, urls[0], "{ wallet { balance entries(first: 100) { nodes { kind amount } } } }", {}, t
                )
                for t in tokens
            ]
            # A replay that raced the original sees it still PENDING; once all are answered, each is final.
            final = {}
            for ref, bodies in references.items():
                token = next(t for r, t, _, _ in jobs if r == ref)
                purchase_id = bodies[0]["data"]["purchaseToken"]["id"]
                body = await _post(
                    client,
                    urls[1],
                    "query($id: ID!) { purchase(id: $id) { status token } }",
                    {"id": purchase_id},
                    token,
                )
                final[ref] = body["data"]["purchase"]
            return final, wallets, references

    final, wallets, references = asyncio.run(scenario())
    for ref, bodies in references.items():
        assert all(not b.get("errors") for b in bodies), (ref, bodies)
        ids = {b["data"]["purchaseToken"]["id"] for b in bodies}
        assert len(ids) == 1, f"{ref} produced {len(ids)} purchases"
        assert {b["data"]["purchaseToken"]["status"] for b in bodies} <= {"SUCCESS", "PENDING"}
    for wallet in wallets:
        entries = wallet["data"]["wallet"]["entries"]["nodes"]
        kinds = Counter(e["kind"] for e in entries)
        assert kinds["PURCHASE_DEBIT"] == 6 and kinds["DEV_TOPUP"] == 1
        assert Decimal(wallet["data"]["wallet"]["balance"]) == sum(
            Decimal(e["amount"]) for e in entries if e["kind"] != "PURCHASE_DEBIT"
        ) - sum(abs(Decimal(e["amount"])) for e in entries if e["kind"] == "PURCHASE_DEBIT")
    _assert_reconciled(replicas[1].router_url)
    assert {p["status"] for p in final.values()} == {"SUCCESS"}
    tokens_sold = [p["token"] for p in final.values()]
    assert len(set(tokens_sold)) == len(tokens_sold)


def test_monthly_cap_holds_across_replicas(replicas: list[System]) -> None:
    urls = [s.router_url for s in replicas]
    meter = next(m for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014 and m.power_va == 450)
    limit = Decimal(meter.power_va) / 1000 * 720

    async def scenario() -> list[dict]:
        async with httpx.AsyncClient(timeout=120) as client:
            token = await _customer(client, urls[0], 5_000_000)
            return await asyncio.gather(
                *(
                    _post(client, urls[i % 2], BUY, {"m": meter.number, "d": "50000", "r": uuid.uuid4().hex}, token)
                    for i in range(8)
                )
            )

    bodies = asyncio.run(scenario())
    sold = [b["data"]["purchaseToken"] for b in bodies if not b.get("errors")]
    refused = [b for b in bodies if b.get("errors")]
    assert all(b["errors"][0]["extensions"]["code"] == "KWH_LIMIT_EXCEEDED" for b in refused), refused
    per_token = Decimal(sold[0]["kwh"])
    assert len(sold) == int(limit // per_token)  # as many as fit, no more, whichever replica sold them
    assert sum(Decimal(s["kwh"]) for s in sold) <= limit


def test_tids_stay_unique_and_increasing_across_two_billers(replicas: list[System]) -> None:
    from biller.settings import DEV_VENDING_KEY
    from sts.keys import parse_vending_key
    from sts.tokens import parse_token

    urls = [s.router_url for s in replicas]
    meter = next(m for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014 and m.power_va >= 3500)

    async def scenario() -> list[dict]:
        async with httpx.AsyncClient(timeout=120) as client:
            token = await _customer(client, urls[0], 5_000_000)
            return await asyncio.gather(
                *(
                    _post(client, urls[i % 2], BUY, {"m": meter.number, "d": "20000", "r": uuid.uuid4().hex}, token)
                    for i in range(16)
                )
            )

    bodies = asyncio.run(scenario())
    assert all(not b.get("errors") for b in bodies), bodies
    key = demo_decoder_key(meter.number, parse_vending_key(DEV_VENDING_KEY))
    tids = [parse_token(b["data"]["purchaseToken"]["token"], key).tid for b in bodies]
    assert len(set(tids)) == len(tids)


def test_instalments_and_key_changes_across_replicas(replicas: list[System]) -> None:
    """Two replicas selling at once to a meter with instalment debt (Rp 5,000 a purchase, Rp 20,000 owed)
    and to the meter still on the 1993 base date: the debt is paid exactly, one sale carries the pair."""
    from biller.settings import DEV_VENDING_KEY
    from sts.keys import parse_vending_key
    from sts.meter import MeterSimulator
    from sts.tid import base_date_for_year

    urls = [s.router_url for s in replicas]
    indebted = next(m for m in METERS if m.instalment > 0)
    stale = next(m for m in METERS if m.sts_base_date == 1993 and m.status == "ACTIVE")
    query = """mutation($m: String!, $d: Decimal!, $r: String!) {
      purchaseToken(meterNumber: $m, denomination: $d, clientReference: $r) {
        status instalment instalmentDebtLeft formattedToken keyChangeTokens } }"""

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with httpx.AsyncClient(timeout=120) as client:
            token = await _customer(client, urls[0], 5_000_000)
            debt, kct = await asyncio.gather(
                asyncio.gather(*(
                    _post(client, urls[i % 2], query, {"m": indebted.number, "d": "20000", "r": uuid.uuid4().hex}, token)
                    for i in range(12)
                )),
                asyncio.gather(*(
                    _post(client, urls[i % 2], query, {"m": stale.number, "d": "20000", "r": uuid.uuid4().hex}, token)
                    for i in range(6)
                )),
            )  # fmt: skip
            return list(debt), list(kct)

    debt, kct = asyncio.run(scenario())
    assert all(not b.get("errors") for b in debt + kct), debt + kct
    paid = [b["data"]["purchaseToken"] for b in debt]
    assert sorted(p["instalment"] for p in paid) == ["0.00"] * 8 + ["5000.00"] * 4
    assert sorted(p["instalmentDebtLeft"] for p in paid if p["instalment"] != "0.00") == [
        "0.00", "10000.00", "15000.00", "5000.00"
    ]  # fmt: skip
    sold = [b["data"]["purchaseToken"] for b in kct]
    carriers = [p for p in sold if p["keyChangeTokens"]]
    assert len(carriers) == 1 and {p["status"] for p in sold} == {"SUCCESS"}
    meter = MeterSimulator(
        demo_decoder_key(stale.number, parse_vending_key(DEV_VENDING_KEY)), base=base_date_for_year(1993)
    )
    assert all(meter.enter(t).accepted for t in carriers[0]["keyChangeTokens"])
    assert all(meter.enter(p["formattedToken"]).accepted for p in sold)


def _assert_reconciled(router_url: str) -> None:
    with httpx.Client(timeout=60) as client:
        token = client.post(
            router_url,
            json={
                "query": 'mutation($p: String!) { signIn(email: "admin@setrum.id", password: $p) { token } }',
                "variables": {"p": DEMO_PASSWORD},
            },
        ).json()["data"]["signIn"]["token"]
        report = client.post(
            router_url,
            json={
                "query": "{ walletReconciliation { ok walletMismatches { customerId } usageMismatches { meterNumber } } }"
            },
            headers={"authorization": f"Bearer {token}"},
        ).json()
    assert report["data"]["walletReconciliation"]["ok"] is True, report


def test_a_purchase_status_subscription_on_one_replica_sees_another_replica_settle_it(
    replicas: list[System],
) -> None:
    """The purchase is made and settled through replica 0; the subscription runs on replica 1 (its router and its
    transactions), which sees the change only through the shared PostgreSQL row (docs/router.md §11 Subscriptions)."""
    import threading

    from tests.e2e.test_subscriptions import STATUS, parse_sse

    first, second = replicas
    meter = next(m for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014 and m.power_va >= 2200)
    fault = {"mode": "pending_then_success", "meterNumber": meter.number, "pendingPolls": 1}
    with httpx.Client(timeout=60) as client:
        token = asyncio.run(_with_client(lambda c: _customer(c, first.router_url, 500_000)))
        biller = _biller_request(first, "PUT", "/v1/faults", fault)
        assert biller.status_code < 300
        try:
            bought = client.post(
                first.router_url,
                json={"query": BUY, "variables": {"m": meter.number, "d": "20000", "r": uuid.uuid4().hex}},
                headers={"authorization": f"Bearer {token}"},
            ).json()["data"]["purchaseToken"]
        finally:
            _biller_request(first, "DELETE", "/v1/faults")
        assert bought["status"] == "PENDING"
        events: list[tuple[str, dict | None]] = []
        streaming = threading.Event()

        def follow() -> None:
            headers = {"accept": "text/event-stream", "authorization": f"Bearer {token}"}
            body = {"query": STATUS, "variables": {"id": bought["id"]}}
            with httpx.stream("POST", second.router_url, json=body, headers=headers, timeout=120) as response:
                for event in parse_sse(response.iter_lines()):
                    events.append(event)
                    streaming.set()
            streaming.set()

        reader = threading.Thread(target=follow)
        reader.start()
        assert streaming.wait(timeout=60)  # the first (PENDING) event is out before replica 0 settles it
        for _ in range(60):  # settle it through replica 0 while replica 1 streams
            refreshed = client.post(
                first.router_url,
                json={
                    "query": "mutation($id: ID!) { refreshPurchase(id: $id) { status } }",
                    "variables": {"id": bought["id"]},
                },
                headers={"authorization": f"Bearer {token}"},
            ).json()
            if refreshed["data"]["refreshPurchase"]["status"] != "PENDING":
                break
            time.sleep(0.5)
        reader.join(timeout=60)
    assert not reader.is_alive()
    assert events[-1] == ("complete", None)
    statuses = [data["data"]["purchaseStatus"]["status"] for event, data in events if event == "next" and data]
    assert statuses[0] == "PENDING" and statuses[-1] == "SUCCESS", events
    last = events[-2][1]
    assert last is not None and last["data"]["purchaseStatus"]["meter"]["holderName"] == meter.holder_name


async def _with_client(job: Any) -> Any:
    async with httpx.AsyncClient(timeout=60) as client:
        return await job(client)


def _biller_request(system: System, method: str, path: str, payload: dict | None = None) -> httpx.Response:
    from setrum_common.trust.service_tokens import service_headers

    body = json.dumps(payload).encode() if payload is not None else b""
    signed = service_headers(system.keyring("transactions"), "biller", method, path, body)
    url = system.spec("biller").base_url + path
    return httpx.request(method, url, content=body, headers={**signed, "content-type": "application/json"}, timeout=30)
