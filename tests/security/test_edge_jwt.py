"""The router verifies the client's JWT at the edge: every way a token can be wrong is a 401
``UNAUTHENTICATED`` before anything runs; a good one puts its claims on the request; no token is
anonymous; a service identity is refused; JWKS keys rotate (file and URL)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from router.app import create_app
from router.gateway import GatewayResult
from router.settings import AuthenticationSettings, RouterSettings
from setrum_common.settings import DEV_JWT_SECRET
from tests.security.jwt_keys import (
    AUDIENCE,
    HS_SECRET,
    ISSUER,
    customer_claims,
    ed25519_pair,
    hs256,
    jwks,
    rsa_pair,
    serve_jwks,
)

QUERY = {"query": "{ hello }"}


class ClaimsGateway:
    """Stands for the gateway: records the claims each request reached it with."""

    def __init__(self) -> None:
        self.claims: list[Any] = []

    async def execute(self, *_args: Any, claims: Any = None, **_kwargs: Any) -> GatewayResult:
        self.claims.append(claims)
        return GatewayResult({"data": {"hello": "world"}})

    async def aclose(self) -> None:
        return None


def _router(gateway: ClaimsGateway, **auth: Any) -> httpx.AsyncClient:
    auth = {"issuers": [ISSUER], "audiences": [AUDIENCE], **auth}
    settings = RouterSettings(authentication=AuthenticationSettings(**auth))
    app = create_app(settings, gateway=gateway)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router.test")


async def _ask(client: httpx.AsyncClient, token: str | None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json=QUERY, headers=headers)


def _refused(response: httpx.Response, hint: str = "") -> None:
    assert response.status_code == 401, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json()
    assert hint.lower() in error["message"].lower()
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_good_hs256_token_puts_its_claims_on_the_request_and_no_token_is_anonymous() -> None:
    gateway = ClaimsGateway()
    async with _router(gateway, hs256_secret=HS_SECRET) as client:
        ok = await _ask(client, hs256(customer_claims()))
        anonymous = await _ask(client, None)
        again = await _ask(client, hs256(customer_claims()))
    assert ok.status_code == 200 and ok.json() == {"data": {"hello": "world"}}
    assert anonymous.status_code == 200
    assert gateway.claims[0]["sub"] == "c-1" and gateway.claims[0]["role"] == "CUSTOMER"
    assert gateway.claims[1] is None
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("case", "hint"),
    [
        ("alg none", "algorithm"),
        ("wrong secret", "invalid"),
        ("expired", "expired"),
        ("not yet valid", "not valid yet"),
        ("wrong issuer", "issuer"),
        ("wrong audience", "audience"),
        ("no exp", "invalid"),
        ("service role", "service identity"),
        ("garbage", "malformed"),
        ("other scheme", "bearer"),
        ("RS256 not configured", "algorithm"),
    ],
)
async def test_every_bad_hs256_token_is_refused_with_401(case: str, hint: str) -> None:
    now = int(time.time())
    tokens = {
        "alg none": jwt.encode(customer_claims(), "", algorithm="none"),
        "wrong secret": hs256(customer_claims(), "another-secret-of-at-least-32-characters!"),
        "expired": hs256(customer_claims(exp=now - 120)),  # beyond the 30 s skew
        "not yet valid": hs256(customer_claims(nbf=now + 120)),
        "wrong issuer": hs256(customer_claims(iss="someone-else")),
        "wrong audience": hs256(customer_claims(aud="setrum-services")),
        "no exp": hs256(customer_claims(exp=None)),
        "service role": hs256(customer_claims(role="SERVICE", sub="transactions")),
        "garbage": "not.a.jwt",
        "RS256 not configured": rsa_pair("k1").sign(customer_claims()),
    }
    gateway = ClaimsGateway()
    async with _router(gateway, hs256_secret=HS_SECRET) as client:
        if case == "other scheme":
            response = await client.post("/graphql", json=QUERY, headers={"authorization": "Basic dXNlcjpwdw=="})
        else:
            response = await _ask(client, tokens[case])
    _refused(response, hint)
    assert gateway.claims == []  # nothing ran


async def test_clock_skew_admits_a_token_a_few_seconds_out() -> None:
    now = int(time.time())
    gateway = ClaimsGateway()
    async with _router(gateway, hs256_secret=HS_SECRET, clock_skew_s=30) as client:
        just_expired = await _ask(client, hs256(customer_claims(exp=now - 10)))
        almost_valid = await _ask(client, hs256(customer_claims(nbf=now + 10)))
    assert just_expired.status_code == 200 and almost_valid.status_code == 200


async def test_a_service_issuer_is_refused() -> None:
    gateway = ClaimsGateway()
    async with _router(gateway, hs256_secret=HS_SECRET, issuers=[], service_issuers=["biller"]) as client:
        response = await _ask(client, hs256(customer_claims(iss="biller")))
    _refused(response, "service identity")


@pytest.mark.parametrize("make_pair", [rsa_pair, ed25519_pair], ids=["RS256", "EdDSA"])
async def test_jwks_file_tokens_and_their_failures(tmp_path: Path, make_pair: Any) -> None:
    good, stranger = make_pair("key-1"), make_pair("key-1")  # the stranger reuses the kid with another key
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(good)))
    gateway = ClaimsGateway()
    async with _router(gateway, jwks_file=path, jwks_min_refetch_s=0) as client:
        ok = await _ask(client, good.sign(customer_claims()))
        wrong_key = await _ask(client, stranger.sign(customer_claims()))
        wrong_kid = await _ask(client, good.sign(customer_claims(), kid="key-9"))
        no_kid = await _ask(client, good.sign(customer_claims(), kid=None))
        hs_with_public_key = await _ask(client, hs256(customer_claims()))
        expired = await _ask(client, good.sign(customer_claims(exp=int(time.time()) - 300)))
    assert ok.status_code == 200 and gateway.claims[0]["sub"] == "c-1"
    _refused(wrong_key, "invalid")
    _refused(wrong_kid, "unknown key")
    _refused(no_kid, "kid")
    _refused(hs_with_public_key, "algorithm")
    _refused(expired, "expired")


async def test_jwks_file_rotation_keeps_old_and_new_keys_valid_and_drops_removed_ones(tmp_path: Path) -> None:
    old, new = rsa_pair("2026-01"), ed25519_pair("2026-02")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(old)))
    gateway = ClaimsGateway()
    async with _router(gateway, jwks_file=path, jwks_min_refetch_s=0, jwks_refresh_s=0.05) as client:
        old_token, new_token = old.sign(customer_claims()), new.sign(customer_claims(sub="c-2"))
        assert (await _ask(client, old_token)).status_code == 200
        _refused(await _ask(client, new_token), "unknown key")  # not published yet
        path.write_text(json.dumps(jwks(old, new)))  # rotation: both published
        assert (await _ask(client, new_token)).status_code == 200  # unknown kid -> re-read at once
        assert (await _ask(client, old_token)).status_code == 200
        path.write_text(json.dumps(jwks(new)))  # the old key retired
        await asyncio.sleep(0.1)
        await _ask(client, new_token)  # notices the age, refreshes in the background
        for _ in range(50):
            response = await _ask(client, old_token)
            if response.status_code == 401:
                break
            await asyncio.sleep(0.02)
        _refused(response, "unknown key")  # the memo of verified tokens went with the key


async def test_jwks_url_is_fetched_refreshed_on_unknown_kid_and_never_hammered() -> None:
    old, new = ed25519_pair("a"), rsa_pair("b")
    with serve_jwks(jwks(old)) as server:
        gateway = ClaimsGateway()
        async with _router(gateway, jwks_url=server.url, jwks_min_refetch_s=0.5) as client:
            assert (await _ask(client, old.sign(customer_claims()))).status_code == 200
            assert server.hits == 1
            server.document = jwks(old, new)
            await asyncio.sleep(0.6)
            assert (await _ask(client, new.sign(customer_claims()))).status_code == 200
            assert server.hits == 2
            # An attacker's stream of made-up kids: refused, and at most one fetch per floor (0.5 s) while it lasts;
            # counted against the stream's own duration, since a busy machine stretches it past one floor.
            forged = [new.sign(customer_claims(), kid=f"made-up-{n}") for n in range(40)]
            started = time.monotonic()
            for token in forged:
                _refused(await _ask(client, token), "unknown key")
            floors = int((time.monotonic() - started) / 0.5) + 1
            assert server.hits <= 2 + floors, (server.hits, floors)


async def test_an_unreachable_jwks_url_refuses_tokens_but_not_anonymous_requests() -> None:
    gateway = ClaimsGateway()
    async with _router(gateway, jwks_url="http://127.0.0.1:9/jwks.json", jwks_timeout_s=0.5) as client:
        _refused(await _ask(client, rsa_pair("x").sign(customer_claims())), "unknown key")
        assert (await _ask(client, None)).status_code == 200


def test_settings_refuse_the_development_secret_in_production_and_conflicting_sources(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="development secret"):
        RouterSettings(env="production", authentication=AuthenticationSettings(hs256_secret=DEV_JWT_SECRET))
    with pytest.raises(ValueError, match="not both"):
        AuthenticationSettings(jwks_file=tmp_path / "k.json", jwks_url="http://127.0.0.1/k.json")
    with pytest.raises(ValueError, match="32 characters"):
        AuthenticationSettings(hs256_secret="short")
    assert not AuthenticationSettings().enabled  # off unless configured
