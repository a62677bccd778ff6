"""Router -> subgraph signing at the subgraph (users, in-process): with router keys configured,
GraphQL answers only requests the router signed — unsigned, wrong key, expired, replayed,
tampered body and tampered claims are 401 and counted — and the Viewer comes from the signed
claims, never from a bearer token the caller sends alongside."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import pytest
from starlette.applications import Starlette

from setrum_common.demo_data import CUSTOMERS, DEMO_PASSWORD
from setrum_common.settings import DEV_JWT_SECRET
from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER, encode_claims
from subgraphs.users.app import create_app
from tests.fixtures.router_signing import TestRouter
from tests.service_keys import production_key_settings
from tests.users.conftest import make_settings

ME = "{ me { id email } }"
SDL = "{ _service { sdl } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
SIGN_IN = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"


@pytest.fixture
def router() -> TestRouter:
    return TestRouter()


@pytest.fixture
async def users(tmp_path: Path, router: TestRouter) -> AsyncIterator[httpx.AsyncClient]:
    app: Starlette = create_app(make_settings(tmp_path, router_public_keys=router.public_keys))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://users.test") as http,
    ):
        yield http


async def _post(http: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post("/graphql", content=body, headers=headers)


async def _rejections(http: httpx.AsyncClient) -> dict[str, float]:
    text = (await http.get("/metrics")).text
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("setrum_router_signature_rejected_total{"):
            reason = line.split('reason="', 1)[1].split('"', 1)[0]
            counts[reason] = float(line.rsplit(" ", 1)[1])
    return counts


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json()


async def _claims_of_demo_customer(users: httpx.AsyncClient, router: TestRouter) -> dict[str, Any]:
    customer = CUSTOMERS[1]
    body, headers = router.request(SIGN_IN, {"e": customer.email, "p": DEMO_PASSWORD})
    token = (await _post(users, body, headers)).json()["data"]["signIn"]["token"]
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def test_a_signed_request_is_answered_and_its_claims_are_the_viewer(
    users: httpx.AsyncClient, router: TestRouter
) -> None:
    claims = await _claims_of_demo_customer(users, router)
    body, headers = router.request(ME, claims=claims)
    me = (await _post(users, body, headers)).json()
    assert me["data"]["me"] == {"id": claims["sub"], "email": CUSTOMERS[1].email}
    body, headers = router.request(ME)
    anonymous = (await _post(users, body, headers)).json()
    assert anonymous["data"]["me"] is None  # signed, no claims: anonymous
    # A bearer token sent alongside a signed anonymous request is not who the caller is.
    body, headers = router.request(ME)
    token = jwt.encode({**claims, "exp": int(time.time()) + 600}, DEV_JWT_SECRET, algorithm="HS256")
    still_anonymous = (await _post(users, body, {**headers, "authorization": f"Bearer {token}"})).json()
    assert still_anonymous["data"]["me"] is None


@pytest.mark.parametrize("query", [ME, SDL, INTROSPECTION], ids=["me", "_service", "introspection"])
async def test_unsigned_requests_are_refused_and_counted(users: httpx.AsyncClient, query: str) -> None:
    post = await users.post("/graphql", json={"query": query})
    get = await users.get("/graphql", params={"query": query})
    _refused(post)
    _refused(get)
    assert (await _rejections(users))["missing"] == 2


async def test_every_forgery_is_refused_with_its_reason(users: httpx.AsyncClient, router: TestRouter) -> None:
    claims = await _claims_of_demo_customer(users, router)
    stranger = TestRouter("test-router")  # the router's key id, another key

    body, headers = stranger.request(ME, claims=claims)
    _refused(await _post(users, body, headers))  # wrong key

    body, headers = TestRouter("unknown-router").request(ME, claims=claims)
    _refused(await _post(users, body, headers))  # key id not in the keyring

    body, headers = router.request(ME, claims=claims, now=time.time() - 120)
    _refused(await _post(users, body, headers))  # outside the 30 s window

    body, headers = router.request(ME, claims=claims)
    assert (await _post(users, body, headers)).status_code == 200
    _refused(await _post(users, body, headers))  # the same signed request again: replay

    body, headers = router.request(ME, claims=claims)
    _refused(await _post(users, body.replace(b"me", b"me ", 1), headers))  # tampered body

    body, headers = router.request(ME, claims=claims)
    admin = {**claims, "role": "ADMIN"}
    _refused(await _post(users, body, {**headers, CLAIMS_HEADER: encode_claims(admin)}))  # tampered claims

    body, headers = router.request(ME)
    _refused(await _post(users, body, {**headers, CLAIMS_HEADER: encode_claims(claims)}))  # claims added

    body, headers = router.request(ME, claims=claims, path="/other")
    _refused(await _post(users, body, headers))  # signed for another path

    body, headers = router.request(ME)
    _refused(await _post(users, body, {**headers, SIGNATURE_HEADER: "kid=test-router,t=1"}))  # malformed

    assert await _rejections(users) == {
        "bad_signature": 5.0,
        "unknown_key": 1.0,
        "expired": 1.0,
        "replayed": 1.0,
        "malformed": 1.0,
    }


async def test_router_signed_service_identity_claims_are_refused_by_the_subgraph(
    users: httpx.AsyncClient, router: TestRouter
) -> None:
    claims = await _claims_of_demo_customer(users, router)
    body, headers = router.request(ME, claims={**claims, "role": "SERVICE"})
    answer = (await _post(users, body, headers)).json()
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_production_subgraph_refuses_to_start_without_router_keys(tmp_path: Path) -> None:
    strong = {
        "environment": "production",
        "jwt_secret": "j" * 40,
        **production_key_settings("users"),
        "seed_demo_data": False,
    }
    with pytest.raises(RuntimeError, match="SETRUM_ROUTER_PUBLIC_KEYS"):
        create_app(make_settings(tmp_path, **strong))
    create_app(make_settings(tmp_path, router_public_keys=TestRouter().public_keys, **strong))


def test_replay_cache_is_bounded_by_time() -> None:
    router = TestRouter()
    from setrum_common.trust import RouterVerifier, SignatureRejected, parse_keyring

    verifier = RouterVerifier(parse_keyring(router.public_keys), window_s=5)
    body = orjson.dumps({"query": ME})
    header = router.signer.sign("POST", "/graphql", body, now=1000)
    verifier.verify(header, "POST", "/graphql", body, now=1000)
    with pytest.raises(SignatureRejected, match="replay"):
        verifier.verify(header, "POST", "/graphql", body, now=1004)
    with pytest.raises(SignatureRejected, match="window"):
        verifier.verify(header, "POST", "/graphql", body, now=1011)  # too old before it is forgotten


async def test_the_router_in_process_asgi_mode_signs_too(tmp_path: Path, router: TestRouter) -> None:
    """The router's in-process subgraph mode (tests, embedding) goes through the same signing."""
    from router.app import create_app as create_router
    from router.settings import AuthenticationSettings, RouterSettings, SigningSettings
    from setrum_common.trust import private_key_text

    users_app = create_app(make_settings(tmp_path, router_public_keys=router.public_keys))
    settings = RouterSettings(
        hot_reload={"enabled": False},
        authentication=AuthenticationSettings(
            hs256_secret=DEV_JWT_SECRET, issuers=["setrum"], audiences=["setrum-api"]
        ),
        signing=SigningSettings(key=private_key_text(router.key), key_id="test-router"),
        headers={"propagate": []},
    )
    app = create_router(settings, subgraph_apps={"users": users_app})
    async with (
        users_app.router.lifespan_context(users_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router.test") as http,
    ):
        customer = CUSTOMERS[1]
        variables = {"e": customer.email, "p": DEMO_PASSWORD}
        signed_in = (await http.post("/graphql", json={"query": SIGN_IN, "variables": variables})).json()
        token = signed_in["data"]["signIn"]["token"]
        me = await http.post("/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"})
        assert me.json()["data"]["me"]["email"] == customer.email
        unsigned = RouterSettings(hot_reload={"enabled": False})  # a router without the key is refused
        stranger = create_router(unsigned, subgraph_apps={"users": users_app})
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stranger), base_url="http://r.test") as other:
            # signIn is open to anonymous callers, so the router asks users, which refuses the unsigned request.
            refused = (await other.post("/graphql", json={"query": SIGN_IN, "variables": variables})).json()
        assert refused["data"] is None or refused["data"]["signIn"] is None
        assert [(e["extensions"]["code"], e["extensions"]["serviceName"]) for e in refused["errors"]] == [
            ("UNAUTHENTICATED", "users")
        ]
        assert (await _rejections_of(users_app))["missing"] >= 1


async def _rejections_of(app: Starlette) -> dict[str, float]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://users.test") as http:
        return await _rejections(http)
