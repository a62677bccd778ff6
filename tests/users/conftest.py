"""Fixtures: a users app on a temporary SQLite file, driven over ASGI (no sockets)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from setrum_common.auth import Role, issue_customer_token
from setrum_common.demo_data import ADMIN, CUSTOMERS
from subgraphs.users.app import create_app
from subgraphs.users.models import Customer
from subgraphs.users.settings import UsersSettings
from tests.service_keys import service_role_token

SITI = CUSTOMERS[1]
BUDI = CUSTOMERS[2]


def make_settings(tmp_path: Any, **overrides: Any) -> UsersSettings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/users.db",
        # Cheap argon2 parameters: the tests exercise the logic, not the cost.
        "password_time_cost": 1,
        "password_memory_kib": 1024,
        "password_parallelism": 1,
        "seed_demo_data": True,
    }
    values.update(overrides)
    return UsersSettings(**values)


@pytest.fixture
def settings(tmp_path: Any) -> UsersSettings:
    return make_settings(tmp_path)


@pytest.fixture
async def app(settings: UsersSettings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


class GraphQL:
    """Posts operations to ``/graphql`` and returns the decoded JSON body."""

    def __init__(self, http: httpx.AsyncClient, settings: UsersSettings) -> None:
        self.http = http
        self.settings = settings

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    def token(self, customer_id: str, role: Role = Role.CUSTOMER, **kwargs: Any) -> str:
        return issue_customer_token(self.settings.jwt_secret.get_secret_value(), customer_id, role, **kwargs)[0]

    def admin_token(self) -> str:
        return self.token(ADMIN.id, Role.ADMIN)

    def service_token(self) -> str:
        """A token claiming the SERVICE role (the attack of issue 11): nobody on GraphQL."""
        return service_role_token(self.settings.jwt_secret.get_secret_value())


@pytest.fixture
def gql(client: httpx.AsyncClient, settings: UsersSettings) -> GraphQL:
    return GraphQL(client, settings)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


@pytest.fixture
def sql_log(app: Starlette) -> Iterator[Callable[[], list[str]]]:
    """Start recording SQL statements; call the result to get the SELECTs seen so far."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)

    def selects() -> list[str]:
        return [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    yield selects
    event.remove(engine, "before_cursor_execute", record)


async def insert_customers(app: Starlette, count: int) -> list[str]:
    """Add ``count`` customers straight to the database (no hashing), in creation order."""
    ids: list[str] = []
    base = datetime.now(UTC) + timedelta(seconds=1)
    async with app.state.db.transaction(write=True) as session:
        for n in range(count):
            customer_id = str(uuid.uuid4())
            ids.append(customer_id)
            session.add(
                Customer(
                    id=customer_id,
                    name=f"Pelanggan {n}",
                    email=f"pelanggan{n}@example.id",
                    phone=None,
                    role="CUSTOMER",
                    password_hash="not-a-real-hash",
                    created_at=base + timedelta(milliseconds=n),
                    updated_at=base,
                )
            )
    return ids
