"""Rate limits and APQ documents shared by two router processes through the shared store: on
PostgreSQL (the production store, when ``SETRUM_TEST_POSTGRES_URL`` is set) and on a SQLite file
(the development store).

Two real ``python -m router serve`` processes, one store. The subgraphs are not running: a
request a rule lets through fails later with ``SUBGRAPH_FETCH_FAILED``, one it refuses is a 429
before planning, which is all these tests need to tell apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from setrum.launcher import REPO_ROOT, free_port
from setrum_common.auth import Role, issue_customer_token
from tests.postgres import POSTGRES_URL, create_databases, drop_databases

pytestmark = pytest.mark.e2e

SECRET = "rate-limit-test-secret-0123456789abcdef"
RULES = [
    {"name": "sign-in-per-ip", "fields": ["signIn"], "per": "ip", "limit": 5, "window_s": 600},
    {"name": "purchases-per-customer", "fields": ["purchaseToken"], "per": "customer", "limit": 3, "window_s": 600},
]
SIGN_IN = 'mutation { signIn(email: "siti@example.id", password: "wrong-password-1") { token } }'
BUY = 'mutation { purchaseToken(meterNumber: "14233784991", denomination: "20000", clientReference: "r") { id } }'


def _start_router(store_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    dead = f"http://127.0.0.1:{free_port()}/graphql"  # nothing listens: subgraph calls fail fast
    env = {
        **os.environ,
        "ROUTER_PORT": str(port),
        "ROUTER_HOT_RELOAD__ENABLED": "false",
        "ROUTER_SHARED_STORE__URL": store_url,
        "ROUTER_RATE_LIMITS__RULES": json.dumps(RULES),
        "ROUTER_AUTHENTICATION__HS256_SECRET": SECRET,
        "ROUTER_SUBGRAPHS__URLS__users": dead,
        "ROUTER_SUBGRAPHS__URLS__master": dead,
        "ROUTER_SUBGRAPHS__URLS__transactions": dead,
        "ROUTER_SUBGRAPHS__TIMEOUT_S": "2",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "router", "serve", "--supergraph", str(REPO_ROOT / "schema/supergraph.graphql")],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"router exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"router did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('store') / 'router-store.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("set SETRUM_TEST_POSTGRES_URL to run against PostgreSQL")
    (url,) = asyncio.run(create_databases("setrum_router_store"))
    try:
        yield url
    finally:
        asyncio.run(drop_databases([url]))


@pytest.fixture(scope="module")
def routers(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    logs = tmp_path_factory.mktemp("logs")
    ports = [free_port(), free_port()]
    procs = [_start_router(store_url, port, logs / f"router-{i}.log") for i, port in enumerate(ports)]
    try:
        for i, (port, proc) in enumerate(zip(ports, procs, strict=True)):
            _wait_healthy(port, proc, logs / f"router-{i}.log")
        yield [f"http://127.0.0.1:{port}/graphql" for port in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


def _codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]


def _token(customer_id: str) -> str:
    token, _ = issue_customer_token(SECRET, customer_id, Role.CUSTOMER, ttl=timedelta(minutes=10))
    return token


async def test_a_per_ip_limit_holds_across_two_router_processes(routers: list[str], client: httpx.AsyncClient) -> None:
    # Five sign-ins per address per window, sent alternately through both routers: the sixth is
    # refused whichever router gets it, with 429, Retry-After and RATE_LIMITED.
    answers = [await client.post(routers[i % 2], json={"query": SIGN_IN}) for i in range(5)]
    assert all("RATE_LIMITED" not in _codes(a) for a in answers), [a.text for a in answers]
    for url in routers:
        refused = await client.post(url, json={"query": SIGN_IN})
        assert refused.status_code == 429
        assert _codes(refused) == ["RATE_LIMITED"]
        retry_after = int(refused.headers["retry-after"])
        assert 0 < retry_after <= 600
        assert refused.json()["errors"][0]["extensions"]["retryAfterSeconds"] == retry_after
    # An operation no rule names is not counted.
    assert (await client.post(routers[0], json={"query": "{ __typename }"})).json() == {"data": {"__typename": "Query"}}


async def test_a_per_customer_limit_holds_across_processes_and_spares_other_customers(
    routers: list[str], client: httpx.AsyncClient
) -> None:
    busy, other = _token(str(uuid.uuid4())), _token(str(uuid.uuid4()))

    async def buy(url: str, token: str) -> httpx.Response:
        return await client.post(url, json={"query": BUY}, headers={"authorization": f"Bearer {token}"})

    first = await asyncio.gather(*(buy(routers[i % 2], busy) for i in range(3)))
    assert all(r.status_code != 429 for r in first)
    refused = await buy(routers[1], busy)
    assert refused.status_code == 429 and _codes(refused) == ["RATE_LIMITED"]
    assert (await buy(routers[0], other)).status_code != 429  # another customer has their own budget
    # Anonymous requests do not spend anyone's budget (the subgraph refuses them anyway).
    assert (await client.post(routers[0], json={"query": BUY})).status_code != 429


async def test_apq_registered_through_one_router_is_found_by_the_other(
    routers: list[str], client: httpx.AsyncClient
) -> None:
    query = "query Apq" + uuid.uuid4().hex[:8] + " { __typename }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    missing = await client.post(routers[1], json={"extensions": persisted})
    assert _codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
    registered = await client.post(routers[0], json={"query": query, "extensions": persisted})
    assert registered.json() == {"data": {"__typename": "Query"}}
    found = await client.post(routers[1], json={"extensions": persisted})
    assert found.json() == {"data": {"__typename": "Query"}}
    by_get = await client.get(
        routers[1],
        params={"extensions": json.dumps(persisted)},
        headers={"apollo-require-preflight": "true"},
    )
    assert by_get.json() == {"data": {"__typename": "Query"}}
