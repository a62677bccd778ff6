"""Sessions through the router: a password change and "sign out everywhere" revoke earlier tokens,
in the users subgraph and in the others (which ask users); email and password need the current one."""

from __future__ import annotations

import uuid

from .conftest import Api, error_codes

PASSWORD = "Token-listrik-2026"
SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }"
SIGN_IN = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"
UPDATE = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { email } }"
ME = "{ me { id email } }"
WALLET = "{ wallet { balance } }"


def _customer(api: Api) -> str:
    email = f"sesi-{uuid.uuid4().hex[:10]}@example.id"
    api.data(SIGN_UP, {"i": {"name": "Sesi Uji", "email": email, "password": PASSWORD}})
    return email


def _sign_in(api: Api, email: str, password: str = PASSWORD) -> str:
    return str(api.data(SIGN_IN, {"e": email, "p": password})["signIn"]["token"])


def _revoked(body: dict[str, object]) -> bool:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return error_codes(body) == ["UNAUTHENTICATED"] and "signed out" in errors[0]["message"]


def test_password_change_signs_out_every_other_session(api: Api) -> None:
    email = _customer(api)
    here, elsewhere = _sign_in(api, email), _sign_in(api, email)
    assert api.data(ME, token=elsewhere)["me"]["email"] == email
    changed = api(UPDATE, {"i": {"currentPassword": PASSWORD, "newPassword": "Listrik-baru-2027"}}, here)
    assert not changed.get("errors"), changed
    assert _revoked(api(ME, token=elsewhere))  # users: checked against its own database
    assert _revoked(api(WALLET, token=elsewhere))  # transactions: asks users
    # The session that made the change stays signed in; a new sign-in needs the new password.
    assert api.data(ME, token=here)["me"]["email"] == email
    assert api.data(WALLET, token=here)["wallet"] is not None
    assert error_codes(api(SIGN_IN, {"e": email, "p": PASSWORD})) == ["INVALID_CREDENTIALS"]
    assert api.data(ME, token=_sign_in(api, email, "Listrik-baru-2027"))["me"]["email"] == email


def test_sign_out_everywhere_revokes_every_token(api: Api) -> None:
    email = _customer(api)
    first, second = _sign_in(api, email), _sign_in(api, email)
    assert api.data("mutation { signOutEverywhere }", token=first) == {"signOutEverywhere": True}
    for token in (first, second):
        assert _revoked(api(ME, token=token))
        assert _revoked(api(WALLET, token=token))
    assert error_codes(api("mutation { signOutEverywhere }")) == ["UNAUTHORIZED_FIELD_OR_TYPE"]  # @authenticated
    fresh = _sign_in(api, email)
    assert api.data(ME, token=fresh)["me"]["email"] == email


def test_email_change_needs_the_current_password(api: Api) -> None:
    email = _customer(api)
    token = _sign_in(api, email)
    new_email = f"baru-{uuid.uuid4().hex[:10]}@example.id"
    missing = api(UPDATE, {"i": {"email": new_email}}, token)
    assert error_codes(missing) == ["BAD_USER_INPUT"]
    wrong = api(UPDATE, {"i": {"email": new_email, "currentPassword": "not-my-password-1"}}, token)
    assert error_codes(wrong) == ["INVALID_CREDENTIALS"]
    assert api.data(ME, token=token)["me"]["email"] == email  # nothing changed
    # Saving the form with the same email (other fields changed) needs no password.
    assert api.data(UPDATE, {"i": {"email": email.upper(), "name": "Sesi Baru"}}, token)["updateProfile"]
    moved = api.data(UPDATE, {"i": {"email": new_email, "currentPassword": PASSWORD}}, token)
    assert moved["updateProfile"]["email"] == new_email


def test_a_new_sign_in_after_a_password_change_works_at_once_in_every_subgraph(api: Api) -> None:
    # transactions caches the account's session version for a few seconds; a token newer than that
    # cached answer must make it ask again, not sign the customer out (a browser flow did exactly this).
    email = _customer(api)
    here = _sign_in(api, email)
    assert api.data(WALLET, token=here)["wallet"] is not None  # transactions now holds the old version
    changed = api(UPDATE, {"i": {"currentPassword": PASSWORD, "newPassword": "Listrik-baru-2027"}}, here)
    assert not changed.get("errors"), changed
    fresh = _sign_in(api, email, "Listrik-baru-2027")
    assert api.data(WALLET, token=fresh)["wallet"] is not None
    assert api.data(ME, token=fresh)["me"]["email"] == email
