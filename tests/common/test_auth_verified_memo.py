"""The verified-token memo in setrum_common.auth must never outlive a token or a secret."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from setrum_common.auth import Role, issue_customer_token, viewer_from_authorization
from setrum_common.errors import DomainError

JWT = "m" * 40


def viewer(token: str, *, jwt_secret: str = JWT):
    return viewer_from_authorization({"authorization": f"Bearer {token}"}, jwt_secret=jwt_secret)


def test_a_token_accepted_before_is_refused_once_it_expires() -> None:
    # exp is a whole second: start just after a second boundary so the token lives ~1-2 s.
    now = datetime.now(UTC)
    token, expires = issue_customer_token(JWT, "c-memo", Role.CUSTOMER, ttl=timedelta(seconds=2), now=now)
    assert viewer(token).subject == "c-memo"
    assert viewer(token).subject == "c-memo"  # answered from the memo
    time.sleep(max(0.0, int(expires.timestamp()) - time.time()) + 0.05)
    with pytest.raises(DomainError) as error:
        viewer(token)
    assert error.value.code == "UNAUTHENTICATED"
    assert "expired" in error.value.message.lower()


def test_a_remembered_token_is_not_accepted_under_another_secret() -> None:
    token, _ = issue_customer_token(JWT, "c-rotated", Role.CUSTOMER)
    assert viewer(token).subject == "c-rotated"
    with pytest.raises(DomainError) as error:
        viewer(token, jwt_secret="x" * 40)
    assert error.value.code == "UNAUTHENTICATED"


def test_a_refused_token_stays_refused() -> None:
    token, _ = issue_customer_token("other-secret" * 4, "c-forged", Role.ADMIN)
    for _ in range(2):
        with pytest.raises(DomainError):
            viewer(token)
