"""signIn, tokens and the viewer: good and bad credentials, expired and garbage tokens, rehashing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from setrum_common.auth import Role, issue_customer_token
from setrum_common.demo_data import ADMIN, DEMO_PASSWORD
from subgraphs.users import repository
from subgraphs.users.app import create_app

from .conftest import SITI, GraphQL, codes, make_settings

SIGN_IN = """
mutation ($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token expiresAt customer { id email role } }
}
"""
ME = "{ me { id role } }"


async def test_sign_in_with_the_right_password(gql: GraphQL) -> None:
    body = await gql(SIGN_IN, {"email": "  SITI@example.ID", "password": DEMO_PASSWORD})
    assert "errors" not in body, body
    payload = body["data"]["signIn"]
    assert payload["customer"] == {"id": SITI.id, "email": SITI.email, "role": "CUSTOMER"}
    expires = datetime.fromisoformat(payload["expiresAt"])
    assert timedelta(hours=11) < expires - datetime.now(UTC) <= timedelta(hours=12)
    assert (await gql(ME, token=payload["token"]))["data"]["me"] == {"id": SITI.id, "role": "CUSTOMER"}


async def test_admin_token_carries_the_admin_role(gql: GraphQL) -> None:
    body = await gql(SIGN_IN, {"email": ADMIN.email, "password": DEMO_PASSWORD})
    token = body["data"]["signIn"]["token"]
    assert (await gql(ME, token=token))["data"]["me"] == {"id": ADMIN.id, "role": "ADMIN"}


async def test_wrong_password_and_unknown_email_fail_the_same_way(gql: GraphQL, app: Starlette) -> None:
    passwords = app.state.service_state.passwords
    verified: list[str] = []
    original = passwords.verify

    async def counting_verify(password_hash: str, password: str, **kwargs: Any) -> bool:
        verified.append(password)
        return await original(password_hash, password, **kwargs)

    passwords.verify = counting_verify
    wrong = await gql(SIGN_IN, {"email": SITI.email, "password": "not-the-password-1"})
    unknown = await gql(SIGN_IN, {"email": "nobody@example.id", "password": "not-the-password-2"})
    malformed = await gql(SIGN_IN, {"email": "nobody", "password": "not-the-password-3"})
    for body in (wrong, unknown, malformed):
        assert body["data"] is None
        assert codes(body) == ["INVALID_CREDENTIALS"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"] == malformed["errors"][0]["message"]
    # A password hash was checked every time, also for the unknown emails (no cheap "no such user" path).
    assert verified == ["not-the-password-1", "not-the-password-2", "not-the-password-3"]


async def test_expired_and_garbage_tokens_are_unauthenticated(gql: GraphQL) -> None:
    expired = gql.token(SITI.id, now=datetime.now(UTC) - timedelta(days=2), ttl=timedelta(hours=1))
    forged = gql.token(SITI.id)[:-4] + "AAAA"
    for token in (expired, "garbage", forged):
        body = await gql(ME, token=token)
        assert body["data"] == {"me": None} or body["data"] is None
        assert codes(body) == ["UNAUTHENTICATED"], body


async def test_token_signed_with_another_secret_is_unauthenticated(gql: GraphQL) -> None:
    token, _ = issue_customer_token("some-other-secret-of-sufficient-length!", SITI.id, Role.ADMIN)
    assert codes(await gql(ME, token=token)) == ["UNAUTHENTICATED"]


async def _stored_hash(app: Starlette, customer_id: str) -> str:
    async with app.state.db.session() as session:
        customer = await repository.get_customer(session, customer_id)
    assert customer is not None
    return customer.password_hash


async def test_sign_in_rehashes_when_the_parameters_change(tmp_path: Any, app: Starlette, gql: GraphQL) -> None:
    before = await _stored_hash(app, SITI.id)
    assert "m=1024,t=1,p=1" in before
    # The same database, served with stronger argon2 parameters.
    stronger = create_app(make_settings(tmp_path, password_time_cost=2, password_memory_kib=2048))
    async with (
        stronger.router.lifespan_context(stronger),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=stronger), base_url="http://test") as http,
    ):
        strong_gql = GraphQL(http, gql.settings)
        wrong = await strong_gql(SIGN_IN, {"email": SITI.email, "password": "wrong-password-1"})
        assert codes(wrong) == ["INVALID_CREDENTIALS"]
        assert await _stored_hash(stronger, SITI.id) == before  # no rehash on a failed sign-in
        body = await strong_gql(SIGN_IN, {"email": SITI.email, "password": DEMO_PASSWORD})
        assert "errors" not in body
        after = await _stored_hash(stronger, SITI.id)
        assert "m=2048,t=2,p=1" in after
        again = await strong_gql(SIGN_IN, {"email": SITI.email, "password": DEMO_PASSWORD})
        assert "errors" not in again
        assert await _stored_hash(stronger, SITI.id) == after  # current parameters: left alone
