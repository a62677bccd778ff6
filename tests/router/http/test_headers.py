"""Header rules: what the subgraph really receives, captured by the in-process subgraph."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from router.settings import RouterSettings


async def test_authorization_is_propagated_by_default(make_client, subgraph) -> None:
    client = make_client()
    await client.post(
        "/graphql",
        json={"query": "{ hello }"},
        headers={"authorization": "Bearer t0k3n", "x-tenant": "pln", "cookie": "s=1"},
    )
    received = subgraph.received[-1]
    assert received["authorization"] == "Bearer t0k3n"
    assert "x-tenant" not in received
    assert "cookie" not in received


async def test_names_regexes_rename_and_static_values(make_client, subgraph) -> None:
    client = make_client(
        headers={
            "propagate": ["authorization", "x-tenant"],
            "propagate_matching": [r"x-setrum-.*"],
            "rename": {"x-client-version": "x-app-version"},
            "insert": {"x-router": "setrum"},
        }
    )
    await client.post(
        "/graphql",
        json={"query": "{ hello }"},
        headers={
            "X-Tenant": "pln",
            "x-setrum-region": "jakarta",
            "X-Setrum-Channel": "app",
            "x-client-version": "1.2",
            "x-other": "no",
        },
    )
    received = subgraph.received[-1]
    assert received["x-tenant"] == "pln"
    assert received["x-setrum-region"] == "jakarta"
    assert received["x-setrum-channel"] == "app"
    assert received["x-app-version"] == "1.2"
    assert "x-client-version" not in received
    assert received["x-router"] == "setrum"
    assert "x-other" not in received


async def test_reserved_headers_are_never_forwarded(make_client, subgraph) -> None:
    client = make_client(headers={"propagate_matching": [".*"]})
    await client.post(
        "/graphql",
        json={"query": "{ hello }"},
        headers={
            "apollo-federation-include-trace": "ftv1",
            "te": "trailers",
            "upgrade": "websocket",
            "x-forwarded-for": "10.0.0.1",
        },
    )
    received = subgraph.received[-1]
    assert "apollo-federation-include-trace" not in received
    assert "te" not in received
    assert "upgrade" not in received
    assert received["host"] != "router.test"  # the subgraph client's own host, not the client's
    assert received["content-type"] == "application/json"
    assert received["x-forwarded-for"] == "10.0.0.1"


@pytest.mark.parametrize(
    "headers",
    [
        {"insert": {"host": "evil"}},
        {"rename": {"x-a": "content-length"}},
        {"propagate": ["Transfer-Encoding"]},
        {"propagate": ["bad header"]},
        {"propagate_matching": ["("]},
    ],
)
def test_rules_that_would_forward_reserved_or_invalid_headers_are_refused(headers: dict) -> None:
    with pytest.raises(ValidationError):
        RouterSettings(headers=headers)
