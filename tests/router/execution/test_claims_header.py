"""The signed claims header is encoded once per verified claims object, and always from the claims
the request carries (a re-verified or another customer's token gets its own)."""

from __future__ import annotations

from typing import Any

import pytest

from router.stages import execute
from router.stages.execute import headers_with_claims
from router.stages.request_context import RequestContext
from setrum_common.trust import CLAIMS_HEADER, decode_claims, encode_claims


def _header(claims: dict[str, Any]) -> dict[str, Any]:
    headers = headers_with_claims(RequestContext(query="{ me { id } }", subgraph_headers={"x-a": "1"}, claims=claims))
    assert headers is not None and headers["x-a"] == "1"
    return decode_claims(headers[CLAIMS_HEADER])


def test_the_same_claims_object_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def counted(claims: Any) -> str:
        calls.append(claims)
        return encode_claims(claims)

    monkeypatch.setattr(execute, "encode_claims", counted)
    claims = {"sub": "c-1", "role": "CUSTOMER", "exp": 2_000_000_000}
    assert _header(claims) == claims
    assert _header(claims) == claims
    assert len(calls) == 1


def test_other_claims_objects_get_their_own_header() -> None:
    first = {"sub": "c-1", "role": "CUSTOMER", "sv": 1}
    assert _header(first) == first
    renewed = {"sub": "c-1", "role": "CUSTOMER", "sv": 2}  # the same customer's token verified again
    assert _header(renewed) == renewed
    other = {"sub": "c-2", "role": "ADMIN"}
    assert _header(other) == other
    assert _header(first) == first


def test_anonymous_requests_carry_no_claims_header() -> None:
    ctx = RequestContext(query="{ tariffs { code } }", subgraph_headers={"x-a": "1"})
    assert headers_with_claims(ctx) == {"x-a": "1"}
