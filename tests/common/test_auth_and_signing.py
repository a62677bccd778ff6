from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from setrum_common.auth import ANONYMOUS, Role, issue_customer_token, viewer_from_authorization
from setrum_common.errors import DomainError
from setrum_common.signing import SignatureError, sign_request, verify_request
from tests.service_keys import service_role_token

JWT = "j" * 40


def viewer(header: str | None):
    headers = {"authorization": header} if header else {}
    return viewer_from_authorization(headers, jwt_secret=JWT)


def test_no_header_is_anonymous() -> None:
    assert viewer(None) is ANONYMOUS


def test_customer_token_round_trip() -> None:
    token, _ = issue_customer_token(JWT, "c-1", Role.CUSTOMER)
    v = viewer(f"Bearer {token}")
    assert (v.subject, v.role, v.customer_id) == ("c-1", Role.CUSTOMER, "c-1")
    assert v.can_access_customer("c-1") and not v.can_access_customer("c-2")


def test_expired_token_is_rejected_with_code() -> None:
    token, _ = issue_customer_token(JWT, "c-1", Role.CUSTOMER, now=datetime.now(UTC) - timedelta(days=2))
    with pytest.raises(DomainError) as err:
        viewer(f"Bearer {token}")
    assert err.value.code == "UNAUTHENTICATED"


def test_token_signed_with_another_secret_is_rejected() -> None:
    token, _ = issue_customer_token("x" * 40, "c-1", Role.ADMIN)
    with pytest.raises(DomainError):
        viewer(f"Bearer {token}")


def test_a_token_claiming_the_service_role_is_nobody() -> None:
    # Signed with the right secret, it still names no customer or admin: services never act through GraphQL.
    with pytest.raises(DomainError) as err:
        viewer(f"Bearer {service_role_token(JWT)}")
    assert err.value.code == "UNAUTHENTICATED"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer not-a-jwt"])
def test_malformed_headers(header: str) -> None:
    with pytest.raises(DomainError):
        viewer(header)


def test_signature_round_trip_and_tampering() -> None:
    header = sign_request("k", "POST", "/v1/purchases", b'{"a":1}')
    verify_request("k", header, "POST", "/v1/purchases", b'{"a":1}')
    for args in (
        ("k", header, "POST", "/v1/purchases", b'{"a":2}'),
        ("other", header, "POST", "/v1/purchases", b'{"a":1}'),
        ("k", header, "GET", "/v1/purchases", b'{"a":1}'),
        ("k", None, "POST", "/v1/purchases", b""),
    ):
        with pytest.raises(SignatureError):
            verify_request(*args)


def test_old_signature_is_refused() -> None:
    header = sign_request("k", "GET", "/x", timestamp=1_000)
    with pytest.raises(SignatureError, match="expired"):
        verify_request("k", header, "GET", "/x", now=1_000 + 301)
