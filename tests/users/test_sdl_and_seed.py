"""The checked-in SDL matches the schema, and demo seeding is idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from starlette.applications import Starlette

from setrum_common.demo_data import CUSTOMERS
from subgraphs.users.app import create_app
from subgraphs.users.models import Customer
from subgraphs.users.seed import seed_demo_customers

from .conftest import GraphQL, make_settings

SDL_FILE = Path(__file__).resolve().parents[2] / "schema" / "users.graphql"


async def test_service_sdl_equals_the_checked_in_file(gql: GraphQL) -> None:
    body = await gql("{ _service { sdl } }")
    assert body["data"]["_service"]["sdl"].rstrip() + "\n" == SDL_FILE.read_text()


async def _count(app: Starlette) -> int:
    async with app.state.db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Customer))).scalar_one())


async def test_seeding_twice_creates_no_duplicates(tmp_path: Any, app: Starlette) -> None:
    assert await _count(app) == len(CUSTOMERS)
    assert await seed_demo_customers(app.state.db, app.state.service_state.passwords) == 0
    restarted = create_app(make_settings(tmp_path))  # start-up seeds again on the same database
    async with restarted.router.lifespan_context(restarted):
        assert await _count(restarted) == len(CUSTOMERS)


async def test_no_seeding_unless_asked(tmp_path: Any) -> None:
    plain = create_app(make_settings(tmp_path / "plain", seed_demo_data=False))
    async with plain.router.lifespan_context(plain):
        assert await _count(plain) == 0
