"""Service identity with least privilege (issue 11, item 2).

Every internal route is called as an attacker would: unsigned, signed with the wrong key, expired,
replayed, over a tampered body, addressed to another service, and by a real service the route does
not accept. Each is refused (401, or 403 for the wrong service) and counted in
``setrum_internal_refused_total``; the one caller the route names is served. Then the issue's
attacks through the public router: a SERVICE-role token is nobody, on every GraphQL endpoint.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from biller.app import create_app as create_biller
from setrum_common.demo_data import CUSTOMERS, METERS
from setrum_common.settings import DEV_JWT_SECRET
from setrum_common.trust.service_keys import ServiceKeyring, development_private_key, load_keyring
from setrum_common.trust.service_tokens import SERVICE_TOKEN_HEADER, issue_service_token
from subgraphs.master.app import create_app as create_master
from subgraphs.master.settings import MasterSettings
from subgraphs.transactions.app import create_app as create_transactions
from subgraphs.transactions.settings import TransactionsSettings
from subgraphs.users.app import create_app as create_users
from tests.biller.conftest import make_settings as biller_settings
from tests.biller.conftest import sale_body
from tests.e2e.conftest import Api
from tests.postgres import _execute, scratch_database
from tests.service_keys import service_role_token
from tests.transactions.fakes import FakeBiller, FakeMaster
from tests.users.conftest import make_settings as users_settings

SITI = CUSTOMERS[1]
METER = METERS[0].number


@dataclass(frozen=True)
class Route:
    """One internal route: who serves it, who may call it, and a request it answers."""

    name: str
    target: str
    caller: str  # the one caller it accepts (or one of them)
    stranger: str  # a real service it does not accept
    method: str
    path: str
    body: bytes
    app: Callable[[Path], AbstractAsyncContextManager[Starlette]]


@asynccontextmanager
async def _running(app: Starlette) -> AsyncIterator[Starlette]:
    async with app.router.lifespan_context(app):
        yield app


def _master(tmp: Path) -> AbstractAsyncContextManager[Starlette]:
    settings = MasterSettings(database_url=f"sqlite+aiosqlite:///{tmp}/m.db", seed_demo_data=True)
    no_transactions = httpx.MockTransport(lambda _: httpx.Response(503))
    return _running(create_master(settings, transactions_transport=no_transactions))


def _transactions(tmp: Path) -> AbstractAsyncContextManager[Starlette]:
    settings = TransactionsSettings(database_url=f"sqlite+aiosqlite:///{tmp}/t.db", settle_interval_s=0)
    return _running(
        create_transactions(
            settings,
            master_transport=httpx.MockTransport(FakeMaster().handle),
            biller_transport=httpx.MockTransport(FakeBiller().handle),
        )
    )


def _users(tmp: Path) -> AbstractAsyncContextManager[Starlette]:
    return _running(create_users(users_settings(tmp)))


def _biller(tmp: Path) -> AbstractAsyncContextManager[Starlette]:
    return _running(create_biller(biller_settings(tmp / "b.db")))


ROUTES = [
    Route(
        "master quote", "master", "transactions", "users", "POST", "/internal/quote",
        orjson.dumps({"meterNumber": METER, "denomination": "100000"}), _master,
    ),
    Route(
        "transactions sales state", "transactions", "master", "biller", "POST", "/internal/meter-sales-state",
        orjson.dumps({"meterNumber": METER, "powerVa": 1300}), _transactions,
    ),
    Route("users sessions (master)", "users", "master", "biller", "GET", f"/internal/sessions/{SITI.id}", b"", _users),
    Route(
        "users sessions (transactions)", "users", "transactions", "payments", "GET", f"/internal/sessions/{SITI.id}",
        b"", _users,
    ),
    Route(
        "biller purchase", "biller", "transactions", "master", "POST", "/v1/purchases",
        orjson.dumps(sale_body("identity-1")), _biller,
    ),
    Route("biller meter", "biller", "transactions", "users", "GET", f"/v1/meters/{METER}", b"", _biller),
]  # fmt: skip


async def _send(app: Starlette, route: Route, headers: dict[str, str], body: bytes | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://internal") as http:
        content = route.body if body is None else body
        return await http.request(
            route.method, route.path, content=content or None, headers={"content-type": "application/json", **headers}
        )


def _token(keyring: ServiceKeyring, route: Route, **changes: Any) -> dict[str, str]:
    audience = changes.get("audience", route.target)
    body = changes.get("body", route.body)
    token = issue_service_token(keyring, audience, route.method, route.path, body, now=changes.get("now"))
    return {SERVICE_TOKEN_HEADER: token}


async def _refused_count(app: Starlette) -> float:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://internal") as http:
        text = (await http.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("setrum_internal_refused_total{")
    )


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
async def test_an_internal_route_serves_only_its_caller(route: Route, tmp_path: Path) -> None:
    own = load_keyring(route.caller, None, None)
    async with route.app(tmp_path) as app:
        impostor = ServiceKeyring(route.caller, development_private_key("router"), {})  # its name, another key
        attempts: dict[str, tuple[dict[str, str], bytes | None]] = {
            "unsigned": ({}, None),
            "wrong key": (_token(impostor, route), None),
            "expired": (_token(own, route, now=time.time() - 120), None),
            "wrong audience": (_token(own, route, audience="payments"), None),
            "wrong service": (_token(load_keyring(route.stranger, None, None), route), None),
            "customer token": ({"authorization": f"Bearer {service_role_token(DEV_JWT_SECRET)}"}, None),
        }
        if route.method == "POST":
            attempts["tampered body"] = (_token(own, route), route.body.replace(b"}", b', "x": 1}'))
        else:
            attempts["another path"] = (
                {SERVICE_TOKEN_HEADER: issue_service_token(own, route.target, route.method, route.path + "0")},
                None,
            )
        for what, (headers, body) in attempts.items():
            response = await _send(app, route, headers, body)
            expected = 403 if what == "wrong service" else 401
            assert response.status_code == expected, (what, response.text)
            assert "Traceback" not in response.text
        assert await _refused_count(app) == len(attempts)

        signed = _token(own, route)
        accepted = await _send(app, route, signed)
        assert accepted.status_code in (200, 404), accepted.text  # 404: a meter or customer a fresh store lacks
        replayed = await _send(app, route, signed)
        assert replayed.status_code == 401, replayed.text
        assert await _refused_count(app) == len(attempts) + 1


async def test_the_biller_answers_its_caller_and_nobody_else_at_all(tmp_path: Path) -> None:
    """Every biller route, even the reads, is transactions' alone."""
    async with _biller(tmp_path) as app:
        master = load_keyring("master", None, None)
        for method, path in (("GET", "/v1/purchases/x"), ("GET", "/v1/sales/2026-12-01"), ("DELETE", "/v1/faults")):
            route = Route("", "biller", "transactions", "master", method, path, b"", _biller)
            assert (await _send(app, route, _token(master, route))).status_code == 403
            served = await _send(app, route, _token(load_keyring("transactions", None, None), route))
            assert served.status_code in (200, 404), served.text  # 404: no purchase "x"


async def test_a_service_token_is_never_a_viewer_on_graphql(tmp_path: Path) -> None:
    """A valid service token (transactions' own, addressed to users) in either header is nobody on GraphQL."""
    async with _users(tmp_path) as app:
        query = orjson.dumps({"query": "{ customers { id email } }"})
        token = issue_service_token(load_keyring("transactions", None, None), "users", "POST", "/graphql", query)
        for headers in ({SERVICE_TOKEN_HEADER: token}, {"authorization": f"Bearer {token}"}):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://u") as http:
                body = (
                    await http.post("/graphql", content=query, headers={"content-type": "application/json", **headers})
                ).json()
            assert body.get("data") is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body


# -------------------------------------------------------------------- the issue's attacks, through the router


def _through_router(api: Api, query: str, token: str) -> dict[str, Any]:
    """The router's answer: a refusal at the edge (401), or GraphQL errors without data."""
    response = api.client.post(
        api.system.router_url, json={"query": query}, headers={"authorization": f"Bearer {token}"}
    )
    if response.status_code == 401:
        return {"errors": [{"extensions": {"code": "UNAUTHENTICATED"}}], "data": None}
    assert response.status_code in (200, 400), response.text
    return dict(response.json())


@pytest.mark.parametrize(
    "query",
    [
        "{ customers { id email } }",
        '{ purchase(id: "00000000-0000-4000-8000-000000000001") { token } }',
        f'mutation {{ issueManagementToken(meterNumber: "{METER}", kind: CLEAR_TAMPER) {{ token }} }}',
        'mutation { setChannelAdminFee(channel: "attacker-shop", adminFee: "0") { code } }',
    ],
    ids=["list every email", "read a purchase token", "issue a management token", "create a sales channel"],
)
def test_a_service_role_token_through_the_router_is_nobody(api: Api, query: str) -> None:
    # Issue 11: one SERVICE-role token was full admin everywhere. Signed with the customer-token secret here
    # (the service secret is gone), it still claims no customer and no admin.
    body = _through_router(api, query, service_role_token(DEV_JWT_SECRET))
    assert not body.get("data") or not any(body["data"].values()), body
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}, body
    channels = api.data("{ channels { code } }")["channels"]
    assert "attacker-shop" not in {c["code"] for c in channels}


# -------------------------------------------------------------------- the session check after a database restart


async def test_the_session_check_survives_dropped_connections_and_answers_503_without_its_database(
    tmp_path: Path,
) -> None:
    """A PostgreSQL restart drops every pooled connection: the first statement on each fails. The
    session check asks once more (200), and with the database really gone answers 503, never 500."""
    async with scratch_database("setrum_sessions") as url:
        name = make_url(url).database
        async with _running(create_users(users_settings(tmp_path, database_url=url))) as app:
            route = ROUTES[2]

            async def ask() -> httpx.Response:
                return await _send(app, route, _token(load_keyring("master", None, None), route))

            assert (await ask()).status_code == 200
            terminate = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            await _execute(terminate)  # what a restart does to the pool
            assert (await ask()).status_code == 200
            await _execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false', terminate)
            try:
                gone = await ask()
                assert gone.status_code == 503, gone.text
                assert gone.json()["code"] == "SERVICE_UNAVAILABLE" and "Traceback" not in gone.text
            finally:
                await _execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert (await ask()).status_code == 200
