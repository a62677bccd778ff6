"""updateProfile: own fields only, email uniqueness, and password changes that need the current one."""

from __future__ import annotations

from typing import Any

from setrum_common.demo_data import DEMO_PASSWORD

from .conftest import BUDI, SITI, GraphQL, codes

UPDATE = """
mutation ($input: UpdateProfileInput!) {
  updateProfile(input: $input) { id name email phone }
}
"""
SIGN_IN = "mutation ($e: String!, $p: String!) { signIn(email: $e, password: $p) { customer { id } } }"


async def update(gql: GraphQL, token: str | None, **fields: Any) -> dict[str, Any]:
    return await gql(UPDATE, {"input": fields}, token=token)


async def test_update_name_and_phone(gql: GraphQL) -> None:
    token = gql.token(SITI.id)
    body = await update(gql, token, name=" Siti  R. ", phone="0857 1111 2222")
    assert body == {
        "data": {"updateProfile": {"id": SITI.id, "name": "Siti R.", "email": SITI.email, "phone": "+6285711112222"}}
    }
    cleared = await update(gql, token, phone=None)
    assert cleared["data"]["updateProfile"]["phone"] is None
    me = await gql("{ me { name phone } }", token=token)
    assert me["data"]["me"] == {"name": "Siti R.", "phone": None}


async def test_update_email_is_normalised_and_unique(gql: GraphQL) -> None:
    token = gql.token(SITI.id)
    taken = await update(gql, token, email=BUDI.email.upper(), currentPassword=DEMO_PASSWORD)
    assert codes(taken) == ["DUPLICATE_EMAIL"]
    moved = await update(gql, token, email=" Siti.Baru@Example.ID ", currentPassword=DEMO_PASSWORD)
    assert moved["data"]["updateProfile"]["email"] == "siti.baru@example.id"
    assert codes(await gql(SIGN_IN, {"e": SITI.email, "p": DEMO_PASSWORD})) == ["INVALID_CREDENTIALS"]
    signed_in = await gql(SIGN_IN, {"e": "SITI.BARU@example.id", "p": DEMO_PASSWORD})
    assert signed_in["data"]["signIn"]["customer"]["id"] == SITI.id


async def test_bad_profile_input(gql: GraphQL) -> None:
    token = gql.token(SITI.id)
    assert codes(await update(gql, token, email="siti-at-example", currentPassword=DEMO_PASSWORD)) == ["BAD_USER_INPUT"]
    assert codes(await update(gql, token, phone="555")) == ["BAD_USER_INPUT"]
    assert codes(await update(gql, token, name=None)) == ["BAD_USER_INPUT"]
    assert codes(await update(gql, token, name="")) == ["BAD_USER_INPUT"]


async def test_password_change_requires_the_current_password(gql: GraphQL) -> None:
    token = gql.token(SITI.id)
    new = "listrik-pintar-2026"
    missing = await update(gql, token, newPassword=new)
    assert codes(missing) == ["BAD_USER_INPUT"]
    wrong = await update(gql, token, currentPassword="not-my-password-1", newPassword=new)
    assert codes(wrong) == ["INVALID_CREDENTIALS"]
    weak = await update(gql, token, currentPassword=DEMO_PASSWORD, newPassword="short")
    assert codes(weak) == ["WEAK_PASSWORD"]
    # None of the refused attempts changed anything.
    assert "errors" not in await gql(SIGN_IN, {"e": SITI.email, "p": DEMO_PASSWORD})

    changed = await update(gql, token, currentPassword=DEMO_PASSWORD, newPassword=new)
    assert changed["data"]["updateProfile"]["id"] == SITI.id
    assert codes(await gql(SIGN_IN, {"e": SITI.email, "p": DEMO_PASSWORD})) == ["INVALID_CREDENTIALS"]
    assert (await gql(SIGN_IN, {"e": SITI.email, "p": new}))["data"]["signIn"]["customer"]["id"] == SITI.id


async def test_update_profile_needs_a_signed_in_customer(gql: GraphQL) -> None:
    assert codes(await update(gql, None, name="Anon")) == ["UNAUTHENTICATED"]
    assert codes(await update(gql, "garbage", name="Anon")) == ["UNAUTHENTICATED"]
    assert codes(await update(gql, gql.service_token(), name="Robot")) == ["UNAUTHENTICATED"]
