"""``MasterClient`` against the REAL master app (over ASGI): master's internal quote route, its error
codes mapped the way transactions promises, and transport failures as SERVICE_UNAVAILABLE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from setrum_common import demo_data as demo
from setrum_common.errors import DomainError
from setrum_common.trust.service_keys import ServiceKeyring, development_private_key, load_keyring
from subgraphs.master.app import create_app as create_master_app
from subgraphs.master.settings import MasterSettings
from subgraphs.transactions.clients.master_client import MasterClient, internal_quote_url

BLOCKED = next(m for m in demo.METERS if m.status == "BLOCKED")
WITH_INSTALMENT = next(m for m in demo.METERS if m.status == "ACTIVE" and m.instalment > 0)


class Recording(httpx.AsyncBaseTransport):
    """Passes requests to ``inner`` and remembers their URLs."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def master(tmp_path: Path) -> AsyncIterator[tuple[Starlette, MasterSettings]]:
    settings = MasterSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/m.db", seed_demo_data=True)
    app = create_master_app(settings)
    async with app.router.lifespan_context(app):
        yield app, settings


async def _code(client: MasterClient, number: str, amount: str, channel: str | None = None) -> str:
    with pytest.raises(DomainError) as error:
        await client.quote(number, Decimal(amount), channel)
    return error.value.code


async def test_client_quotes_through_the_internal_route(master: tuple[Starlette, MasterSettings]) -> None:
    app, _ = master
    transport = Recording(httpx.ASGITransport(app=app))
    client = MasterClient("http://master.test/graphql", load_keyring("transactions", None, None), transport=transport)
    try:
        quote = await client.quote(demo.METERS[0].number, Decimal("100000"))
        assert (quote.energy_value, quote.ppj, quote.ppn, quote.kwh, quote.total_paid) == (
            Decimal("97656.25"),
            Decimal("2343.75"),
            Decimal("0.00"),
            Decimal("67.5"),
            Decimal("102500.00"),
        )
        assert (quote.meter_number, quote.power_va, quote.limit_tenths) == (demo.METERS[0].number, 1300, 9360)
        by_idpel = await client.quote(demo.METERS[1].idpel, Decimal("1000000"), "setrum-agent")
        assert (by_idpel.meter_number, by_idpel.admin_fee, by_idpel.ppn) == (
            demo.METERS[1].number,
            Decimal("3500.00"),
            Decimal("95652.17"),
        )
        instalment = await client.quote(WITH_INSTALMENT.number, Decimal("50000"))
        assert instalment.instalment == WITH_INSTALMENT.instalment
        assert (instalment.instalment_per_purchase, instalment.instalment_debt) == (
            WITH_INSTALMENT.instalment,
            WITH_INSTALMENT.instalment_debt,
        )
        last = await client.quote(WITH_INSTALMENT.number, Decimal("50000"), instalment_paid=Decimal("17000"))
        assert (last.instalment, last.instalment_debt_left) == (Decimal("3000.00"), Decimal("0.00"))
        assert transport.urls == ["http://master.test/internal/quote"] * 4
    finally:
        await client.aclose()


async def test_client_passes_master_codes_through(master: tuple[Starlette, MasterSettings]) -> None:
    app, _ = master
    client = MasterClient(
        "http://master.test/graphql", load_keyring("transactions", None, None), transport=httpx.ASGITransport(app=app)
    )
    try:
        siti = demo.METERS[0].number
        assert await _code(client, BLOCKED.number, "100000") == "CUSTOMER_BLOCKED"
        assert await _code(client, "99999999990", "100000") == "WRONG_CUSTOMER_NUMBER"
        assert await _code(client, "99999999999", "100000") == "WRONG_CHECK_DIGIT"
        assert await _code(client, siti, "0") == "AMOUNT_OUT_OF_RANGE"
        assert await _code(client, "123", "100000") == "WRONG_DIGIT_COUNT"
        assert await _code(client, siti, "12345") == "PRODUCT_UNAVAILABLE"
        assert await _code(client, siti, "100000", "nope") == "BAD_USER_INPUT"
    finally:
        await client.aclose()


async def test_a_wrong_service_key_is_service_unavailable(master: tuple[Starlette, MasterSettings]) -> None:
    app, _ = master
    impostor = ServiceKeyring("transactions", development_private_key("users"), {})
    client = MasterClient("http://master.test/graphql", impostor, transport=httpx.ASGITransport(app=app))
    try:
        assert await _code(client, demo.METERS[0].number, "100000") == "SERVICE_UNAVAILABLE"
    finally:
        await client.aclose()


async def test_transport_failures_are_service_unavailable() -> None:
    async def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json={})

    answers: dict[str, Callable[[httpx.Request], Any]] = {
        "unreachable": unreachable,
        "slow": slow,
        "html 502": lambda r: httpx.Response(502, text="<html>bad gateway</html>"),
        "internal error": lambda r: httpx.Response(
            500, json={"error": {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}}
        ),
        "unreadable quote": lambda r: httpx.Response(200, json={"meterNumber": "14233784991"}),
        "old master (no route)": lambda r: httpx.Response(404, text="Not Found"),
    }
    for name, handler in answers.items():
        client = MasterClient(
            "http://m.test/graphql",
            load_keyring("transactions", None, None),
            timeout_s=0.2,
            transport=httpx.MockTransport(handler),
        )
        try:
            assert await _code(client, demo.METERS[0].number, "100000") == "SERVICE_UNAVAILABLE", name
        finally:
            await client.aclose()


def test_internal_url_is_derived_from_the_graphql_url() -> None:
    assert internal_quote_url("http://127.0.0.1:4002/graphql") == "http://127.0.0.1:4002/internal/quote"
    assert internal_quote_url("http://master:4002/graphql/") == "http://master:4002/internal/quote"
    assert internal_quote_url("https://gw.example/master/graphql?x=1") == "https://gw.example/master/internal/quote"
    assert internal_quote_url("http://master:4002") == "http://master:4002/internal/quote"
