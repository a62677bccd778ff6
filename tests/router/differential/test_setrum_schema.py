"""Differential test on Setrum's own supergraph: users, master and transactions as they are deployed.

The real processes run (``setrum.launcher.System``: the three subgraphs, biller, payments and our router, SQLite,
demo seed), and generated queries go to our router over HTTP with the demo admin's token (edge verification,
authorization and request signing all on) and to Apollo Gateway and Hive Gateway on the same supergraph.

The subgraphs answer only requests signed by a router they hold the public key of (setrum_common/trust/,
docs/trust.md), and the reference gateways cannot sign. We keep the subgraphs in that mode rather than start them
unsigned in development mode, which is not how they are deployed and takes the viewer from the client's token
instead of the signed claims: the reference gateways call a small signing proxy on localhost
(``harness.signing_proxy``) which adds the claims header our router sends for the admin's token and signs each
request with the test system's router key, exactly as our router signs. So every gateway reaches the same
subgraphs as the same viewer. The reference gateways get the supergraph without its authorization features
(Apollo Gateway refuses a ``for: SECURITY`` link); the admin passes every ``@authenticated`` and
``@policy(["admin"])`` rule, so our router's authorization removes nothing and the answers must agree.

Deterministic data: the demo seed (customers, meters, tariffs, wallets, saved meters) plus a few purchases made
through our router before the comparison with fixed client references (each settles at once: the biller answers
SUCCESS). Only queries are generated, so nothing changes while they run. ``Quote.quotedAt`` is the time of the
request, different for every gateway, and is never selected. An operation that met an outage anywhere
(SERVICE_UNAVAILABLE: a subgraph's session check timing out on a busy machine; OVERLOADED: a service shedding load)
is sent to all three again after a pause. Argument values come from the seed (meter numbers,
IDPELs, customer ids) and the purchases (their ids, in creation order, so a replayed seed asks for the same ones).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from router.supergraph.loader import load_supergraph
from setrum.launcher import System, SystemPorts
from setrum_common.clock import JAKARTA
from setrum_common.demo_data import CHANNEL_ADMIN_FEES, CUSTOMERS, DEMO_PASSWORD, DENOMINATIONS, METERS, REGIONS
from setrum_common.overload import RETRY_AFTER_S

from .cases import SEEDS, Seed, check_all, ops_for, post
from .generator import GeneratedOperation, OperationGenerator
from .harness import node_missing, reference_gateways, serve, signing_proxy, without_authorization

SUBGRAPHS = ("users", "master", "transactions")
# (customer, meter, denomination, client reference) of the purchases made before the comparison.
PURCHASES = (
    (CUSTOMERS[1], METERS[0].number, 20_000, "diff-siti-1"),
    (CUSTOMERS[1], METERS[3].number, 50_000, "diff-siti-2"),
    (CUSTOMERS[2], METERS[1].number, 100_000, "diff-budi-1"),
)
VOLATILE_FIELDS = ("Quote.quotedAt",)

pytestmark = pytest.mark.timeout(900)


@dataclass
class SetrumWorld:
    router_url: str
    admin_token: str
    api_sdl: str  # our supergraph, for the API schema the operations are generated over
    urls: dict[str, str]  # the reference gateways
    strings: list[str]


def _graphql(http: httpx.Client, url: str, query: str, variables: dict[str, Any], token: str = "") -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = http.post(url, json={"query": query, "variables": variables}, headers=headers).json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def _sign_in(http: httpx.Client, url: str, email: str) -> str:
    query = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"
    token: str = _graphql(http, url, query, {"e": email, "p": DEMO_PASSWORD})["signIn"]["token"]
    return token


def _claims(token: str) -> dict[str, Any]:
    """The claims our router verifies in ``token`` and forwards (the proxy forwards the same)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


BUY = """mutation($m: String!, $d: Decimal!, $r: String!) {
  purchaseToken(meterNumber: $m, denomination: $d, clientReference: $r) { id status } }"""


def _purchase_ids(http: httpx.Client, url: str) -> list[str]:
    ids = []
    for customer, meter, denomination, reference in PURCHASES:
        token = _sign_in(http, url, customer.email)
        bought = _graphql(http, url, BUY, {"m": meter, "d": str(denomination), "r": reference}, token)
        assert bought["purchaseToken"]["status"] == "SUCCESS", bought
        ids.append(bought["purchaseToken"]["id"])
    return ids


def _today() -> datetime:
    return datetime.now(UTC).astimezone(JAKARTA)


def _strings(purchase_ids: list[str]) -> list[str]:
    today = _today()
    known = [
        *(m.number for m in METERS[:12]),
        *(m.idpel for m in METERS[:4]),
        *(c.id for c in CUSTOMERS),
        *(reference for *_, reference in PURCHASES),
        *CHANNEL_ADMIN_FEES,
        *(r.code for r in REGIONS[:2]),
        today.strftime("%Y-%m-%d"),
        today.strftime("%Y-%m"),
        "2020-01",
    ]
    return [*known, *purchase_ids]  # the purchases last, in creation order: a replay picks the same ones


OUTAGE_CODES = {"SERVICE_UNAVAILABLE", "OVERLOADED"}
OUTAGE_ATTEMPTS = 5


def _unavailable(answer: dict[str, Any]) -> bool:
    """An outage, not an answer to compare, so the operation is sent again to all three: a subgraph could not reach
    another service in time (a session check on a busy machine), or a service shed the request as overloaded (its
    concurrency limit follows latency, and CI's two cores run every gateway and service at once). Our router sends
    a refused fetch once more by itself; the reference gateways pass the refusal on, Hive Gateway with the
    subgraph's code, Apollo Gateway as INTERNAL_SERVER_ERROR with the subgraph's 503 response attached."""
    for error in answer.get("errors") or ():
        extensions = error.get("extensions") or {}
        response = extensions.get("response") or {}
        if extensions.get("code") in OUTAGE_CODES or response.get("status") == 503:
            return True
    return False


@pytest.fixture(scope="module")
def setrum_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SetrumWorld]:
    reason = node_missing()
    if reason:
        pytest.skip(reason)
    data_dir = tmp_path_factory.mktemp("setrum-differential")
    # One admin makes every request from 127.0.0.1, beyond the per-IP limits meant for people.
    system = System(
        data_dir,
        ports=SystemPorts.free(),
        log_dir=data_dir / "logs",
        extra_env={"ROUTER_RATE_LIMITS__ENABLED": "false"},
    )
    system.start(timeout_s=90)
    try:
        with httpx.Client(timeout=60) as http:
            purchase_ids = _purchase_ids(http, system.router_url)
            admin_token = _sign_in(http, system.router_url, CUSTOMERS[0].email)
        sdl = system.router_supergraph.read_text()
        upstreams = {name: f"{system.spec(name).base_url}/graphql" for name in SUBGRAPHS}
        proxy = signing_proxy(upstreams, system.router_signer(), _claims(admin_token))
        with serve(proxy) as proxy_url:
            peer_sdl = without_authorization(sdl, {name: f"{proxy_url}/{name}/graphql" for name in SUBGRAPHS})
            with reference_gateways({"setrum": peer_sdl}, data_dir) as urls:
                yield SetrumWorld(system.router_url, admin_token, sdl, urls["setrum"], _strings(purchase_ids))
    finally:
        system.stop()


@pytest.mark.parametrize("seed", SEEDS, ids=[s.label for s in SEEDS])
async def test_router_answers_as_the_reference_gateways_on_setrum_schema(seed: Seed, setrum_world: SetrumWorld) -> None:
    world = setrum_world
    schema = load_supergraph(world.api_sdl).api_schema
    generator = OperationGenerator(
        schema,
        seed.for_set("setrum"),
        strings=world.strings,
        scalars={
            "Decimal": [str(d) for d in DENOMINATIONS[:4]],
            "DateTime": ["2020-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00"],
            "Date": [_today().strftime("%Y-%m-%d")],
        },
        skip=VOLATILE_FIELDS,
    )
    ops = [generator.operation() for _ in range(ops_for("setrum", seed))]
    admin = {"authorization": f"Bearer {world.admin_token}"}
    resends: list[str] = []  # one entry per resend after an outage

    async def answers(op: GeneratedOperation) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        body = {"query": op.query, "variables": op.variables}
        for attempt in range(OUTAGE_ATTEMPTS):
            if attempt:
                resends.append(op.query)
                # As a refusal's Retry-After asks, a little longer each time.
                await asyncio.sleep(RETRY_AFTER_S * attempt)
            ours, apollo, hive = await asyncio.gather(
                post(client, world.router_url, body, admin),
                post(client, world.urls["apollo"], body),
                post(client, world.urls["hive"], body),
            )
            if not any(_unavailable(answer) for answer in (ours, apollo, hive)):
                break
        return ours, apollo, hive

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(keepalive_expiry=2.0)) as client:
        await check_all("setrum", seed, ops, answers, schema)
    print(f"setrum: {len(resends)} resends after an outage ({len(set(resends))} operations)")
