"""Sign-in throttling per email, kept in the database so it holds across replicas.

A controllable clock drives the window, so expiry is tested without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from setrum_common.demo_data import DEMO_PASSWORD
from subgraphs.users.app import create_app
from subgraphs.users.settings import UsersSettings
from tests.postgres import scratch_database

from .conftest import BUDI, SITI, GraphQL, codes, make_settings

SIGN_IN = """
mutation ($email: String!, $password: String!) { signIn(email: $email, password: $password) { customer { id } } }
"""
WRONG = "not-the-password-1"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def _start(stack: AsyncExitStack, settings: UsersSettings, clock: Clock) -> GraphQL:
    app: Starlette = create_app(settings, clock=clock)
    await stack.enter_async_context(app.router.lifespan_context(app))
    http = await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    )
    return GraphQL(http, settings)


@pytest.fixture
async def replicas(tmp_path: Any, clock: Clock) -> AsyncIterator[tuple[GraphQL, GraphQL]]:
    """Two app instances (two engines, two processes' worth of state) on ONE SQLite file."""
    settings = make_settings(tmp_path)
    async with AsyncExitStack() as stack:
        first = await _start(stack, settings, clock)
        second = await _start(stack, settings, clock)
        yield first, second


async def sign_in(gql: GraphQL, email: str, password: str) -> dict[str, Any]:
    return await gql(SIGN_IN, {"email": email, "password": password})


def retry_after(body: dict[str, Any]) -> int:
    assert codes(body) == ["TOO_MANY_ATTEMPTS"], body
    return int(body["errors"][0]["extensions"]["retryAfterSeconds"])


async def test_sixth_attempt_is_refused_even_with_the_right_password(
    replicas: tuple[GraphQL, GraphQL], clock: Clock
) -> None:
    gql, _ = replicas
    for _ in range(5):
        assert codes(await sign_in(gql, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
    sixth = await sign_in(gql, SITI.email, WRONG)
    assert retry_after(sixth) == 900
    assert sixth["data"] is None
    clock.advance(600)
    # The right password does not get through a lock-out; the wait counts from the first failure.
    locked = await sign_in(gql, SITI.email, DEMO_PASSWORD)
    assert retry_after(locked) == 300
    # Another spelling of the same email is the same counter.
    assert retry_after(await sign_in(gql, "  Siti@EXAMPLE.id", DEMO_PASSWORD)) == 300
    # Other accounts are not affected.
    assert (await sign_in(gql, BUDI.email, DEMO_PASSWORD))["data"]["signIn"]["customer"]["id"] == BUDI.id

    clock.advance(300)  # the window has passed
    ok = await sign_in(gql, SITI.email, DEMO_PASSWORD)
    assert ok["data"]["signIn"]["customer"]["id"] == SITI.id


async def test_success_clears_the_counter(replicas: tuple[GraphQL, GraphQL]) -> None:
    gql, _ = replicas
    for _ in range(4):
        assert codes(await sign_in(gql, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
    assert "errors" not in await sign_in(gql, SITI.email, DEMO_PASSWORD)
    # A fresh allowance of five failures, then the lock.
    for _ in range(5):
        assert codes(await sign_in(gql, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
    assert retry_after(await sign_in(gql, SITI.email, DEMO_PASSWORD)) == 900


async def test_a_window_that_passed_restarts_the_count(replicas: tuple[GraphQL, GraphQL], clock: Clock) -> None:
    gql, _ = replicas
    for _ in range(4):
        assert codes(await sign_in(gql, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
    clock.advance(900)
    for _ in range(5):
        assert codes(await sign_in(gql, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
    assert retry_after(await sign_in(gql, SITI.email, WRONG)) == 900


async def test_expired_counters_of_abandoned_emails_are_cleaned_up(
    replicas: tuple[GraphQL, GraphQL], clock: Clock
) -> None:
    import sqlite3

    gql, _ = replicas
    database = gql.settings.database_url.split("///", 1)[1]

    def counters() -> set[str]:
        with sqlite3.connect(database) as conn:
            return {row[0] for row in conn.execute("SELECT email FROM users_signin_attempt")}

    for n in range(3):
        assert codes(await sign_in(gql, f"guess-{n}@example.id", WRONG)) == ["INVALID_CREDENTIALS"]
    assert counters() == {f"guess-{n}@example.id" for n in range(3)}
    clock.advance(600)  # still inside their window: kept
    assert codes(await sign_in(gql, "other@example.id", WRONG)) == ["INVALID_CREDENTIALS"]
    assert len(counters()) == 4
    clock.advance(300)  # the first three windows have passed; a later attempt sweeps them away
    assert codes(await sign_in(gql, "late@example.id", WRONG)) == ["INVALID_CREDENTIALS"]
    assert counters() == {"other@example.id", "late@example.id"}


async def test_unknown_emails_are_throttled_like_real_ones(replicas: tuple[GraphQL, GraphQL]) -> None:
    gql, _ = replicas
    for _ in range(5):
        assert codes(await sign_in(gql, "nobody@example.id", WRONG)) == ["INVALID_CREDENTIALS"]
    assert retry_after(await sign_in(gql, "nobody@example.id", WRONG)) == 900


async def test_two_replicas_share_one_counter(replicas: tuple[GraphQL, GraphQL], clock: Clock) -> None:
    first, second = replicas
    for _ in range(3):
        assert codes(await sign_in(first, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
    clock.advance(60)
    for _ in range(2):
        assert codes(await sign_in(second, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
    assert retry_after(await sign_in(first, SITI.email, DEMO_PASSWORD)) == 840
    assert retry_after(await sign_in(second, SITI.email, DEMO_PASSWORD)) == 840
    clock.advance(840)
    assert "errors" not in await sign_in(second, SITI.email, DEMO_PASSWORD)
    # Cleared for the other replica too: five fresh failures allowed there.
    for _ in range(5):
        assert codes(await sign_in(first, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
    assert retry_after(await sign_in(second, SITI.email, WRONG)) == 900


async def _concurrent_attempts(replicas: tuple[GraphQL, GraphQL], email: str, count: int) -> list[list[str]]:
    results = await asyncio.gather(*(sign_in(replicas[n % 2], email, f"{WRONG}-{n}") for n in range(count)))
    return [codes(body) for body in results]


async def test_concurrent_attempts_on_two_replicas_let_exactly_five_through(
    replicas: tuple[GraphQL, GraphQL],
) -> None:
    outcomes = await _concurrent_attempts(replicas, SITI.email, 14)
    assert outcomes.count(["INVALID_CREDENTIALS"]) == 5
    assert outcomes.count(["TOO_MANY_ATTEMPTS"]) == 9


async def test_limits_come_from_settings(tmp_path: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERS_SIGNIN_MAX_FAILURES", "2")
    monkeypatch.setenv("USERS_SIGNIN_WINDOW_S", "60")
    settings = make_settings(tmp_path)
    assert (settings.signin_max_failures, settings.signin_window_s) == (2, 60)
    assert (
        UsersSettings.model_fields["signin_max_failures"].default,
        UsersSettings.model_fields["signin_window_s"].default,
    ) == (
        5,
        900,
    )
    async with AsyncExitStack() as stack:
        gql = await _start(stack, settings, clock)
        for _ in range(2):
            assert codes(await sign_in(gql, SITI.email, WRONG)) == ["INVALID_CREDENTIALS"]
        assert retry_after(await sign_in(gql, SITI.email, DEMO_PASSWORD)) == 60
        clock.advance(59.5)
        assert retry_after(await sign_in(gql, SITI.email, DEMO_PASSWORD)) == 1  # rounded up, never 0
        clock.advance(0.5)
        assert "errors" not in await sign_in(gql, SITI.email, DEMO_PASSWORD)


@pytest.fixture
async def scratch_postgres() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards), migrated by the app itself."""
    async with scratch_database("setrum_throttle") as url:
        yield url


@pytest.mark.postgres
async def test_concurrent_attempts_on_two_postgres_replicas(scratch_postgres: str, clock: Clock) -> None:
    settings = make_settings("unused", database_url=scratch_postgres)
    async with AsyncExitStack() as stack:
        replicas = (await _start(stack, settings, clock), await _start(stack, settings, clock))
        outcomes = await _concurrent_attempts(replicas, SITI.email, 16)
        assert outcomes.count(["INVALID_CREDENTIALS"]) == 5
        assert outcomes.count(["TOO_MANY_ATTEMPTS"]) == 11
        assert retry_after(await sign_in(replicas[1], SITI.email, DEMO_PASSWORD)) == 900
        clock.advance(900)
        assert "errors" not in await sign_in(replicas[0], SITI.email, DEMO_PASSWORD)
