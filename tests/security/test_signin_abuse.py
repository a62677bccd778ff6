"""Sign-in abuse against the users service: nobody can lock another customer out, the client
address comes only from a trusted relay (the router), and a storm of sign-ins is refused at once
instead of queueing in front of everyone (the bounded argon2 queue)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from setrum_common.client_ip import CLIENT_IP_HEADER
from setrum_common.demo_data import DEMO_PASSWORD
from subgraphs.users.app import create_app
from subgraphs.users.settings import UsersSettings as Settings
from tests.users.conftest import SITI, make_settings

SIGN_IN = """mutation ($e: String!, $p: String!) { signIn(email: $e, password: $p) { customer { email } } }"""
ROUTER = ("127.0.0.1", 50000)  # a trusted relay by default (USERS_TRUSTED_PROXIES)
OUTSIDER = ("203.0.113.50", 50000)

Ask = Callable[..., Any]


@pytest.fixture
async def users(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``users(**settings)`` -> ``ask(email, password, via=peer, client_ip=None)``."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Ask:
            settings: Settings = make_settings(tmp_path, **overrides)
            app: Starlette = create_app(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients: dict[tuple[str, int], httpx.AsyncClient] = {}

            async def ask(
                email: str, password: str, *, via: tuple[str, int] = ROUTER, client_ip: str | None = None
            ) -> dict[str, Any]:
                if via not in clients:
                    clients[via] = await stack.enter_async_context(
                        httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=via), base_url="http://users")
                    )
                headers = {CLIENT_IP_HEADER: client_ip} if client_ip else {}
                response = await clients[via].post(
                    "/graphql", json={"query": SIGN_IN, "variables": {"e": email, "p": password}}, headers=headers
                )
                assert response.status_code == 200, response.text
                return response.json()

            return ask

        yield make


def _code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


async def test_an_attacker_cannot_lock_the_owner_out(users: Callable[..., Any]) -> None:
    # The attack of issue 12: 50 wrong passwords for a known email used to lock its owner out for
    # 15 minutes. Now they throttle the attacker's address only.
    ask = await users()
    codes = Counter([_code(await ask(SITI.email, f"wrong-guess-{n}", client_ip="198.51.100.7")) for n in range(50)])
    assert codes == {"INVALID_CREDENTIALS": 5, "TOO_MANY_ATTEMPTS": 45}
    # The attacker is refused even with the right password: the throttle runs before any check.
    assert _code(await ask(SITI.email, DEMO_PASSWORD, client_ip="198.51.100.7")) == "TOO_MANY_ATTEMPTS"
    owner = await ask(SITI.email, DEMO_PASSWORD, client_ip="192.0.2.10")
    assert owner["data"]["signIn"]["customer"]["email"] == SITI.email


async def test_the_client_address_is_believed_only_from_a_trusted_relay(users: Callable[..., Any]) -> None:
    ask = await users()
    # A direct caller cannot pick a fresh address per guess: its header is ignored and it is
    # keyed by its own address.
    codes = [_code(await ask(SITI.email, "wrong-guess-x", via=OUTSIDER, client_ip=f"192.0.2.{n}")) for n in range(1, 8)]
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["TOO_MANY_ATTEMPTS"] * 2
    # A header that is not an address is ignored too (the relay's own address is used).
    assert _code(await ask(SITI.email, DEMO_PASSWORD, client_ip="not-an-ip")) is None


async def test_a_sign_in_storm_is_refused_at_once_and_leaves_room_for_others(users: Callable[..., Any]) -> None:
    # A real argon2 cost (32 MiB) with one hashing thread and one waiting place: eight concurrent
    # sign-ins from one address get one place; the rest are refused RATE_LIMITED before any hash.
    # (The generous wait keeps this about capacity, not about how fast a loaded machine hashes.)
    ask = await users(
        password_time_cost=2,
        password_memory_kib=32768,
        password_hash_concurrency=1,
        password_queue_max_waiting=1,
        password_queue_per_client=1,
        password_queue_wait_s=60,
        signin_max_failures=1000,  # this test is about the queue, not the (email, address) throttle
    )
    storm = [ask(SITI.email, f"wrong-guess-{n}", client_ip="198.51.100.9") for n in range(8)]
    answers = await asyncio.gather(*storm)
    codes = Counter(_code(body) for body in answers)
    assert codes == {"INVALID_CREDENTIALS": 1, "RATE_LIMITED": 7}, codes
    refused = next(body for body in answers if _code(body) == "RATE_LIMITED")
    assert refused["errors"][0]["extensions"]["retryAfterSeconds"] == 1

    # Storms from many addresses: one thread, one waiting place, the rest OVERLOADED at once.
    spread = [ask(SITI.email, f"wrong-guess-{n}", client_ip=f"198.51.100.{100 + n}") for n in range(6)]
    codes = Counter(_code(body) for body in await asyncio.gather(*spread))
    assert codes == {"INVALID_CREDENTIALS": 2, "OVERLOADED": 4}, codes

    # While one address storms, the owner from another address is still served.
    storm = [ask(SITI.email, f"wrong-guess-{n}", client_ip="198.51.100.9") for n in range(4)]
    owner = ask(SITI.email, DEMO_PASSWORD, client_ip="192.0.2.10")
    *attack, mine = await asyncio.gather(*storm, owner)
    assert mine["data"]["signIn"]["customer"]["email"] == SITI.email
    assert Counter(_code(body) for body in attack)["RATE_LIMITED"] >= 3


async def test_a_waiting_sign_in_gives_up_after_the_queue_wait(users: Callable[..., Any]) -> None:
    ask = await users(
        password_time_cost=2,
        password_memory_kib=32768,
        password_hash_concurrency=1,
        password_queue_max_waiting=4,
        password_queue_wait_s=0.01,
        signin_max_failures=1000,
    )
    answers = await asyncio.gather(*(ask(SITI.email, f"w-{n}", client_ip=f"198.51.100.{n}") for n in range(4)))
    codes = Counter(_code(body) for body in answers)
    assert codes["INVALID_CREDENTIALS"] >= 1 and codes["OVERLOADED"] >= 1, codes
