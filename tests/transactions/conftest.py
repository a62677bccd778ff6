from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from setrum_common.auth import Role, issue_customer_token
from setrum_common.demo_data import ADMIN, CUSTOMERS
from setrum_common.settings import DEV_JWT_SECRET
from subgraphs.transactions.app import create_app
from subgraphs.transactions.settings import TransactionsSettings

from .fakes import FakeBiller, FakeMaster

SITI, BUDI, DEWI, AGUS = (c.id for c in CUSTOMERS[1:5])


def token(customer_id: str, role: Role = Role.CUSTOMER) -> str:
    return issue_customer_token(DEV_JWT_SECRET, customer_id, role)[0]


class GraphQL:
    """A tiny GraphQL client over the ASGI app."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None, role: Role | None = None
    ) -> dict[str, Any]:
        headers = {}
        if as_ is not None:
            headers["authorization"] = (
                f"Bearer {token(as_, role or (Role.ADMIN if as_ == ADMIN.id else Role.CUSTOMER))}"
            )
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


def error_code(result: dict[str, Any]) -> str | None:
    errors = result.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


@pytest.fixture
def fake_master() -> FakeMaster:
    return FakeMaster()


@pytest.fixture
def fake_biller() -> FakeBiller:
    return FakeBiller()


@pytest.fixture
def settings(tmp_path: Path) -> TransactionsSettings:
    return TransactionsSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/transactions.db",
        seed_demo_data=True,
        master_url="http://master.test/graphql",
        biller_url="http://biller.test",
        pending_refresh_after_s=0,
        settle_interval_s=0,  # no settlement worker (its rounds would run statements); test_settlement starts one
    )


@pytest.fixture
async def app(
    settings: TransactionsSettings, fake_master: FakeMaster, fake_biller: FakeBiller
) -> AsyncIterator[Starlette]:
    app = create_app(
        settings,
        master_transport=httpx.MockTransport(fake_master.handle),
        biller_transport=httpx.MockTransport(fake_biller.handle),
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def gql(app: Starlette) -> AsyncIterator[GraphQL]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield GraphQL(http)
