"""The real system for end-to-end tests: five processes on free localhost ports.

Runs once against SQLite and, when ``SETRUM_TEST_POSTGRES_URL`` names a PostgreSQL server,
once more against PostgreSQL (a fresh database per service).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from setrum.launcher import System, SystemPorts, free_port
from setrum_common.settings import DEV_BILLER_SECRET
from setrum_common.signing import SIGNATURE_HEADER, sign_request

SERVICES = ("users", "master", "transactions", "biller")


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


def create_postgres_databases(admin_url: str, names: list[str]) -> dict[str, str]:
    """Create one empty database per name; returns SQLAlchemy URLs."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def _create() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            for name in names:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(_create())
    return {n: url.set(database=n).render_as_string(hide_password=False) for n in names}


@pytest.fixture(scope="session", params=_backends())
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    backend = request.param
    data_dir: Path = tmp_path_factory.mktemp(f"system-{backend}")
    database_urls: dict[str, str] = {}
    if backend == "postgres":
        suffix = uuid.uuid4().hex[:8]
        urls = create_postgres_databases(
            os.environ["SETRUM_TEST_POSTGRES_URL"], [f"setrum_{s}_{suffix}" for s in SERVICES]
        )
        database_urls = {s: urls[f"setrum_{s}_{suffix}"] for s in SERVICES}
    ports = SystemPorts(*(free_port() for _ in range(5)))
    # Spans go to each service's log (console exporter), so tests can follow one trace across processes.
    system = System(
        data_dir, ports=ports, database_urls=database_urls, log_dir=data_dir / "logs",
        extra_env={"SETRUM_OTEL_EXPORTER": "console"},
    )
    system.start(timeout_s=90)
    try:
        yield system
    finally:
        system.stop()


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
        secret = os.environ.get("SETRUM_BILLER_SECRET", DEV_BILLER_SECRET)
        headers = {SIGNATURE_HEADER: sign_request(secret, method, path, body), "content-type": "application/json"}
        url = self.system.spec("biller").base_url + path
        return self.client.request(method, url, content=body, headers=headers)


@pytest.fixture(scope="session")
def api(system: System) -> Iterator[Api]:
    client = Api(system)
    yield client
    client.client.close()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
