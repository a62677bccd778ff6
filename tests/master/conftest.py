"""Fixtures: the master app on a fresh SQLite file with the demo data, talked to over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import event

from setrum_common import demo_data as demo
from setrum_common.auth import Role, issue_customer_token
from setrum_common.trust.service_tokens import SERVICE_TOKEN_HEADER, ReplayCache, verify_service_token
from subgraphs.master.app import create_app
from subgraphs.master.settings import MasterSettings
from tests.service_keys import service_role_token


class GraphQLClient:
    """Posts GraphQL to the app; ``as_(token)`` gives the same client with a bearer token."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def as_(self, token: str | None) -> GraphQLClient:
        return GraphQLClient(self.http, token)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


@pytest.fixture
def settings(tmp_path: Path) -> MasterSettings:
    return MasterSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'master.db'}", seed_demo_data=True)


class FakeTransactions:
    """Stands in for transactions' ``POST /internal/meter-sales-state``: answers what a test put in
    ``states`` (by meter number), 503 otherwise; records the requests."""

    def __init__(self, settings: MasterSettings) -> None:
        self.settings = settings
        self.keyring = settings.service_keyring("transactions")
        self.replay = ReplayCache()
        self.states: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        # Signed by master's own key for transactions, as the real route checks it.
        assert request.url.path == "/internal/meter-sales-state"
        caller = verify_service_token(
            self.keyring, request.headers.get(SERVICE_TOKEN_HEADER), "POST", request.url.path, request.content,
            replay=self.replay,
        )  # fmt: skip
        assert caller == "master"
        body = orjson.loads(request.content)
        self.requests.append(body)
        state = self.states.get(body["meterNumber"])
        return httpx.Response(200, json=state) if state is not None else httpx.Response(503, json={})


@pytest.fixture
def transactions(settings: MasterSettings) -> FakeTransactions:
    return FakeTransactions(settings)


@pytest.fixture
async def app(settings: MasterSettings, transactions: FakeTransactions) -> AsyncIterator[Any]:
    application = create_app(settings, transactions_transport=httpx.MockTransport(transactions.handle))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def gql(app: Any) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield GraphQLClient(http)


def _customer_token(settings: MasterSettings, customer: demo.DemoCustomer) -> str:
    token, _ = issue_customer_token(settings.jwt_secret.get_secret_value(), customer.id, Role(customer.role))
    return token


@pytest.fixture
def siti_token(settings: MasterSettings) -> str:
    return _customer_token(settings, demo.CUSTOMERS[1])


@pytest.fixture
def budi_token(settings: MasterSettings) -> str:
    return _customer_token(settings, demo.CUSTOMERS[2])


@pytest.fixture
def admin_token(settings: MasterSettings) -> str:
    return _customer_token(settings, demo.ADMIN)


@pytest.fixture
def service_token(settings: MasterSettings) -> str:
    """The issue's attack token: it claims the SERVICE role (signed with the customer-token secret)."""
    return service_role_token(settings.jwt_secret.get_secret_value())


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith("SELECT")]

    def clear(self) -> None:
        self.statements.clear()


@pytest.fixture
def sql(app: Any) -> Iterator[StatementLog]:
    log = StatementLog()
    engine = app.state.db.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield log
    event.remove(engine, "before_cursor_execute", record)
