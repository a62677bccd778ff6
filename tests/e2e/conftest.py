"""The real system for end-to-end tests: five processes on free localhost ports.

Runs once against SQLite and, when ``SETRUM_TEST_POSTGRES_URL`` names a PostgreSQL server,
once more against PostgreSQL (a fresh database per service).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from setrum.launcher import System, SystemPorts
from setrum_common.demo_data import DEMO_PASSWORD
from setrum_common.trust.service_tokens import service_headers
from tests.postgres import create_databases

SERVICES = ("users", "master", "transactions", "biller", "payments")


def _backends() -> list[Any]:
    params: list[Any] = ["sqlite"]
    params.append(
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(
                not os.environ.get("SETRUM_TEST_POSTGRES_URL"), reason="SETRUM_TEST_POSTGRES_URL not set"
            ),
        )
    )
    return params


def create_postgres_databases(prefix: str, services: tuple[str, ...]) -> dict[str, str]:
    """One empty database per service (left for the server to discard with the CI cluster)."""
    urls = asyncio.run(create_databases(prefix, len(services)))
    return dict(zip(services, urls, strict=True))


@pytest.fixture(scope="session", params=_backends())
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    backend = request.param
    data_dir: Path = tmp_path_factory.mktemp(f"system-{backend}")
    database_urls: dict[str, str] = {}
    if backend == "postgres":
        database_urls = create_postgres_databases("setrum_e2e", SERVICES)
    ports = SystemPorts.free()
    # Spans go to each service's log (console exporter), so tests can follow one trace across processes.
    # Every test signs up and in from 127.0.0.1, far more often than the per-IP limits allow a person on a quiet
    # machine; rate limits are tested on their own routers (tests/security, test_scale_out).
    system = System(
        data_dir,
        ports=ports,
        database_urls=database_urls,
        log_dir=data_dir / "logs",
        extra_env={"SETRUM_OTEL_EXPORTER": "console", "ROUTER_RATE_LIMITS__ENABLED": "false"},
    )
    system.start(timeout_s=90)
    try:
        yield system
        assert_money_invariants(system)  # after every e2e test of this backend
    finally:
        system.stop()


RECONCILIATION = """{ walletReconciliation { ok walletsChecked walletMismatches { customerId balance ledgerSum }
  paymentMismatches { reference problem } usageMismatches { meterNumber month } } }"""


def assert_money_invariants(system: System) -> None:
    """Every wallet equals its ledger, and every top-up credit is exactly one provider payment (and every
    payment the provider delivered was credited), asked of transactions through the router as an admin."""
    with httpx.Client(timeout=60) as http:
        signed_in = http.post(
            system.router_url,
            json={
                "query": 'mutation($p: String!) { signIn(email: "admin@setrum.id", password: $p) { token } }',
                "variables": {"p": DEMO_PASSWORD},
            },
        ).json()
        token = signed_in["data"]["signIn"]["token"]
        report = http.post(
            system.router_url, json={"query": RECONCILIATION}, headers={"authorization": f"Bearer {token}"}
        ).json()
    assert report.get("data") and report["data"]["walletReconciliation"]["ok"], report


class Api:
    """A tiny GraphQL client for the router, as a front end would use it."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.client = httpx.Client(timeout=60)

    def __call__(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = self.client.post(
            self.system.router_url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 400), response.text
        return response.json()

    def data(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        body = self(query, variables, token)
        assert not body.get("errors"), body
        return body["data"]

    def biller(self, method: str, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        body = orjson.dumps(payload) if payload is not None else b""
        signed = service_headers(self.system.keyring("transactions"), "biller", method, path, body)
        headers = {**signed, "content-type": "application/json"}
        url = self.system.spec("biller").base_url + path
        return self.client.request(method, url, content=body, headers=headers)


@pytest.fixture(scope="session")
def api(system: System) -> Iterator[Api]:
    client = Api(system)
    yield client
    client.client.close()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
