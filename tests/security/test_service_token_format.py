"""Service tokens are standard EdDSA JWTs, checked without PyJWT (for CPU per call), to the same rules.

Interop both ways with PyJWT, the algorithm pinned (``none``, an HMAC keyed with the public key and a
header that lies about the algorithm are refused), a payload edited after signing is refused, and the
claims keep their types (a list audience, a boolean or float expiry, a missing claim).
And the session check: concurrent requests of one customer share one lookup to users.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import jwt
import orjson
import pytest

from setrum_common.auth import Role, Viewer
from setrum_common.errors import DomainError
from setrum_common.sessions import SessionGuard, SessionState
from setrum_common.trust.codec import b64url, unb64url
from setrum_common.trust.service_keys import ServiceKeyring, encode_public_key, load_keyring
from setrum_common.trust.service_tokens import (
    ReplayCache,
    ServiceAuthError,
    issue_service_token,
    verify_service_token,
)

CALLER = load_keyring("transactions", None, None)
MASTER = load_keyring("master", None, None)
PATH = "/internal/quote"
BODY = b'{"meterNumber":"12345678901"}'


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "transactions", "sub": "transactions", "aud": "master", "iat": now, "exp": now + 60,
        "jti": "nonce-" + str(time.monotonic_ns()), "htm": "POST", "htp": PATH,
        "bh": hashlib.sha256(BODY).hexdigest(),
    }  # fmt: skip
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(header: dict[str, Any], claims: dict[str, Any], keyring: ServiceKeyring = CALLER) -> str:
    signing_input = f"{b64url(orjson.dumps(header))}.{b64url(orjson.dumps(claims))}"
    return f"{signing_input}.{b64url(keyring.private_key.sign(signing_input.encode()))}"


def _verify(token: str) -> str:
    return verify_service_token(MASTER, token, "POST", PATH, BODY, replay=ReplayCache())


def _reason(token: str) -> str:
    with pytest.raises(ServiceAuthError) as refused:
        _verify(token)
    return refused.value.reason


def test_our_tokens_are_jwts_that_pyjwt_reads() -> None:
    token = issue_service_token(CALLER, "master", "POST", PATH, BODY)
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "transactions", "typ": "JWT"}
    claims = jwt.decode(token, CALLER.private_key.public_key(), algorithms=["EdDSA"], audience="master")
    assert claims["bh"] == hashlib.sha256(BODY).hexdigest() and claims["htp"] == PATH
    assert _verify(token) == "transactions"


def test_a_token_pyjwt_signed_is_accepted() -> None:
    token = jwt.encode(_claims(), CALLER.private_key, algorithm="EdDSA", headers={"kid": "transactions"})
    assert _verify(token) == "transactions"


def test_the_algorithm_is_pinned() -> None:
    claims = _claims()
    unsigned = f"{b64url(orjson.dumps({'alg': 'none', 'kid': 'transactions'}))}.{b64url(orjson.dumps(claims))}."
    assert _reason(unsigned) == "bad_signature"
    # An HMAC keyed with the caller's public key (the classic confusion attack).
    public = unb64url(encode_public_key(CALLER.private_key.public_key()))
    head = b64url(orjson.dumps({"alg": "HS256", "kid": "transactions"}))
    body = b64url(orjson.dumps(claims))
    mac = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert _reason(f"{head}.{body}.{b64url(mac)}") == "bad_signature"
    # A real EdDSA signature under a header that names another algorithm.
    assert _reason(_signed({"alg": "ES256", "kid": "transactions"}, claims)) == "bad_signature"


def test_an_edited_payload_or_foreign_key_is_refused() -> None:
    token = issue_service_token(CALLER, "master", "POST", PATH, BODY)
    head, _, signature = token.split(".")
    edited = b64url(orjson.dumps(_claims(htp="/internal/other")))
    assert _reason(f"{head}.{edited}.{signature}") == "bad_signature"
    users = load_keyring("users", None, None)
    assert _reason(_signed({"alg": "EdDSA", "kid": "transactions"}, _claims(), users)) == "bad_signature"
    assert _reason(_signed({"alg": "EdDSA", "kid": "nobody"}, _claims())) == "unknown_service"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("a.b", "malformed"),
        ("!!!.x.y", "malformed"),
        (b64url(b"[1]") + ".e30.AA", "malformed"),
        ("e" * 9000, "malformed"),
    ],
)
def test_garbage_is_malformed(token: str, reason: str) -> None:
    assert _reason(token) == reason


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # Times are taken when the case runs, not when the module is collected (a suite runs for minutes).
        (lambda now: {"aud": ["master"]}, "wrong_audience"),
        (lambda now: {"aud": "users"}, "wrong_audience"),
        (lambda now: {"exp": True}, "malformed"),
        (lambda now: {"exp": float(now + 60)}, "malformed"),
        (lambda now: {"iat": True}, "malformed"),
        (lambda now: {"jti": None}, "bad_signature"),
        (lambda now: {"iss": "users"}, "bad_signature"),
        (lambda now: {"sub": "users"}, "bad_signature"),
        (lambda now: {"nbf": now + 600}, "bad_signature"),
        (lambda now: {"iat": now - 600, "exp": now - 540}, "expired"),
        (lambda now: {"exp": now + 3600}, "expired"),
        (lambda now: {"bh": "0" * 64}, "tampered"),
    ],
)
def test_claims_keep_their_types_and_rules(changes: Callable[[int], dict[str, Any]], reason: str) -> None:
    claims = _claims(**changes(int(time.time())))
    assert _reason(_signed({"alg": "EdDSA", "kid": "transactions", "typ": "JWT"}, claims)) == reason


def test_a_token_is_served_once() -> None:
    token = issue_service_token(CALLER, "master", "POST", PATH, BODY)
    replay = ReplayCache()
    assert verify_service_token(MASTER, token, "POST", PATH, BODY, replay=replay) == "transactions"
    with pytest.raises(ServiceAuthError) as refused:
        verify_service_token(MASTER, token, "POST", PATH, BODY, replay=replay)
    assert refused.value.reason == "replayed"


# ----------------------------------------------------------------------------- the session check, batched


def _viewer(version: int = 1) -> Viewer:
    return Viewer(subject="c-1", role=Role.CUSTOMER, session_id="s-1", session_version=version)


async def test_concurrent_checks_of_one_customer_share_one_lookup() -> None:
    asked: list[str] = []
    gate = asyncio.Event()

    async def lookup(customer_id: str) -> SessionState | None:
        asked.append(customer_id)
        await gate.wait()
        return SessionState(version=1)

    guard = SessionGuard(lookup)
    checks = [asyncio.create_task(guard.check(_viewer())) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    assert all(v.customer_id == "c-1" for v in await asyncio.gather(*checks))
    assert asked == ["c-1"]
    await guard.check(_viewer())  # cached
    assert asked == ["c-1"]


async def test_a_failed_lookup_fails_every_waiter_and_is_not_cached() -> None:
    calls = 0
    gate = asyncio.Event()

    async def lookup(customer_id: str) -> SessionState | None:
        nonlocal calls
        calls += 1
        await gate.wait()
        if calls == 1:
            raise DomainError("SERVICE_UNAVAILABLE", "users is down")
        return SessionState(version=1)

    guard = SessionGuard(lookup)
    checks = [asyncio.create_task(guard.check(_viewer())) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*checks, return_exceptions=True)
    assert all(isinstance(r, DomainError) for r in results)
    assert (await guard.check(_viewer())).customer_id == "c-1" and calls == 2


async def test_a_revocation_during_a_lookup_is_not_overwritten_by_its_answer() -> None:
    answers = [SessionState(version=1), SessionState(version=2)]
    gate = asyncio.Event()

    async def lookup(customer_id: str) -> SessionState | None:
        state = answers.pop(0)
        if state.version == 1:
            await gate.wait()
        return state

    guard = SessionGuard(lookup)
    first = asyncio.create_task(guard.check(_viewer()))
    await asyncio.sleep(0)
    guard.forget("c-1")  # this process revoked the sessions while the old answer was on its way
    gate.set()
    await first
    with pytest.raises(DomainError):
        await guard.check(_viewer())  # asks again: version 2 refuses the old token
