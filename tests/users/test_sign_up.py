"""signUp: accounts, normalisation and the errors a client can act on."""

from __future__ import annotations

from typing import Any

import pytest

from subgraphs.users import repository

from .conftest import GraphQL, codes

SIGN_UP = """
mutation ($input: SignUpInput!) {
  signUp(input: $input) { token expiresAt customer { id name email phone role createdAt } }
}
"""
ME = "{ me { id email name role } }"


def sign_up_input(**overrides: Any) -> dict[str, Any]:
    values = {"name": "  Rina   Kusuma ", "email": " Rina.Kusuma@Example.ID ", "password": "kopi-tubruk-42"}
    values.update(overrides)
    return {"input": values}


async def test_sign_up_returns_a_token_that_works_for_me(gql: GraphQL) -> None:
    body = await gql(SIGN_UP, sign_up_input(phone="0812-3456-7890"))
    assert "errors" not in body, body
    payload = body["data"]["signUp"]
    customer = payload["customer"]
    assert customer["email"] == "rina.kusuma@example.id"
    assert customer["name"] == "Rina Kusuma"
    assert customer["phone"] == "+6281234567890"
    assert customer["role"] == "CUSTOMER"
    assert payload["expiresAt"] > customer["createdAt"]

    me = await gql(ME, token=payload["token"])
    assert me == {
        "data": {
            "me": {"id": customer["id"], "email": "rina.kusuma@example.id", "name": "Rina Kusuma", "role": "CUSTOMER"}
        }
    }


async def test_me_is_null_without_a_token(gql: GraphQL) -> None:
    assert await gql(ME) == {"data": {"me": None}}


async def test_duplicate_email_in_another_case_is_refused(gql: GraphQL) -> None:
    first = await gql(SIGN_UP, sign_up_input())
    assert "errors" not in first
    again = await gql(SIGN_UP, sign_up_input(email="RINA.KUSUMA@example.id", name="Someone Else"))
    assert again["data"] is None
    assert codes(again) == ["DUPLICATE_EMAIL"]
    # A demo customer's address, written differently, is taken as well.
    demo = await gql(SIGN_UP, sign_up_input(email="Siti@Example.id"))
    assert codes(demo) == ["DUPLICATE_EMAIL"]


async def test_duplicate_email_race_is_caught_by_the_unique_index(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ups that both pass the early check: the database index still refuses the second."""
    assert "errors" not in await gql(SIGN_UP, sign_up_input())

    async def nobody(*_: Any) -> None:
        return None

    monkeypatch.setattr(repository, "get_customer_by_email", nobody)
    body = await gql(SIGN_UP, sign_up_input(email="rina.kusuma@EXAMPLE.id"))
    assert codes(body) == ["DUPLICATE_EMAIL"]
    assert "Internal" not in str(body)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab1-xyz", "at least 10 characters"),
        ("abcdefghijklmnop", "two kinds of characters"),
        ("12345678901234", "two kinds of characters"),
        ("Rina.Kusuma@example.id", "not be your email"),
        ("RINA.kusuma", "not be your email"),
    ],
)
async def test_weak_passwords_are_refused_with_the_reason(gql: GraphQL, password: str, reason: str) -> None:
    body = await gql(SIGN_UP, sign_up_input(password=password))
    assert codes(body) == ["WEAK_PASSWORD"]
    error = body["errors"][0]
    assert reason in error["message"]
    assert any(reason in r for r in error["extensions"]["reasons"])


async def test_weak_password_lists_every_reason(gql: GraphQL) -> None:
    body = await gql(SIGN_UP, sign_up_input(password="abc"))
    reasons = body["errors"][0]["extensions"]["reasons"]
    assert len(reasons) == 2
    assert "at least 10" in reasons[0] and "two kinds" in reasons[1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "rina@localhost"),
        ("email", "ri na@example.id"),
        ("phone", "12345"),
        ("phone", "+1 415 555 0100"),
        ("phone", "0812-abc-7890"),
        ("name", "   "),
    ],
)
async def test_malformed_input_is_bad_user_input(gql: GraphQL, field: str, value: str) -> None:
    body = await gql(SIGN_UP, sign_up_input(**{field: value}))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field


@pytest.mark.parametrize(
    ("written", "stored"),
    [("+62 812 3456 7890", "+6281234567890"), ("6281234567890", "+6281234567890"), ("(021) 555-1234", "+62215551234")],
)
async def test_phone_numbers_are_normalised_to_plus_62(gql: GraphQL, written: str, stored: str) -> None:
    body = await gql(SIGN_UP, sign_up_input(phone=written))
    assert body["data"]["signUp"]["customer"]["phone"] == stored
