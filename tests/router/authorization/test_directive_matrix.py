"""Each directive on each kind of position: the ``authorization`` set's supergraph with the requirement at
one position swapped for @authenticated, @requiresScopes or @policy, then asked by a caller who lacks it and
one who has it (docs/router.md §8.2). Subgraph calls are counted: what is removed is never fetched."""

from __future__ import annotations

from typing import Any

import pytest

from router.gateway import GatewayOptions
from router.stages import AuthorizationOptions, PolicyTable

from .test_enforcement import ADMIN, CUSTOMER, unauthorized

# directive -> (its text, claims that lack it, claims that satisfy it)
DIRECTIVES: dict[str, tuple[str, dict[str, Any] | None, dict[str, Any]]] = {
    "authenticated": ("@authenticated", None, CUSTOMER),
    "requiresScopes": ('@requiresScopes(scopes: [["x"]])', CUSTOMER, {**CUSTOMER, "scope": "x"}),
    "policy": ('@policy(policies: [["admin"]])', CUSTOMER, ADMIN),
}

# kind -> (supergraph text whose directive is swapped, query, denied body, allowed data, calls when denied)
KINDS: dict[str, tuple[str, str, dict[str, Any], dict[str, Any], list[str]]] = {
    "object field": (
        'email: String @join__field(graph: ACCOUNTS) @requiresScopes(scopes: [["read:email"], ["admin"]])',
        '{ user(id: "u1") { name email } }',
        {"data": {"user": {"name": "Ada", "email": None}}, "errors": unauthorized(["user", "email"])},
        {"user": {"name": "Ada", "email": "ada@example.com"}},
        ["accounts"],
    ),
    "interface field": (
        "label: String @authenticated",  # on Post.label, and Node.label by composition
        "{ nodes { id label } }",
        {
            "data": {"nodes": [{"id": "u1", "label": None}, {"id": "p1", "label": None}]},
            "errors": unauthorized(["nodes", 0, "label"], ["nodes", 1, "label"]),
        },
        {"nodes": [{"id": "u1", "label": "admin"}, {"id": "p1", "label": "draft"}]},
        ["accounts"],
    ),
    "union member type": (
        "type Secret @join__type(graph: ACCOUNTS) @authenticated {",
        "{ feed { ... on Post { id } ... on Secret { code } } }",
        {"data": {"feed": [{"id": "p1"}, {}]}, "errors": unauthorized(["feed", 1])},
        {"feed": [{"id": "p1"}, {"code": "0000"}]},
        ["accounts"],
    ),
    "scalar type": (
        "scalar Iban @join__type(graph: BILLING) @authenticated",
        '{ user(id: "u2") { name iban } }',
        {"data": {"user": {"name": "Bob", "iban": None}}, "errors": unauthorized(["user", "iban"])},
        {"user": {"name": "Bob", "iban": "ID-002"}},
        ["accounts"],
    ),
    "entity field through _entities": (
        'balance: Int! @join__field(graph: BILLING) @requiresScopes(scopes: [["billing:read"]])',
        '{ user(id: "u1") { name plan balance } }',
        {"data": {"user": None}, "errors": unauthorized(["user", "balance"])},
        {"user": {"name": "Ada", "plan": "pro", "balance": 120}},
        ["accounts", "billing"],  # plan is still fetched; the request asks billing for plan only
    ),
}


def _swap(old: str, directive: str) -> Any:
    head = old.rsplit(" @", 1)[0] if not old.endswith("{") else old[: old.rindex(" @")]
    new = f"{head} {directive}" + (" {" if old.endswith("{") else "")

    def edit(sdl: str) -> str:
        assert old in sdl
        return sdl.replace(old, new)

    return edit


@pytest.mark.parametrize("directive", list(DIRECTIVES))
@pytest.mark.parametrize("kind", list(KINDS))
async def test_each_directive_on_each_kind(run_set, kind: str, directive: str) -> None:
    text, lacking, having = DIRECTIVES[directive]
    old, query, denied_body, allowed_data, denied_calls = KINDS[kind]
    options = GatewayOptions(authorization=AuthorizationOptions(policies=PolicyTable({"admin": "role == ADMIN"})))
    run = await run_set("authorization", edit=_swap(old, text), options=options)
    assert await run.query(query, claims=lacking) == denied_body
    assert run.calls() == denied_calls
    removed = {"object field": "email", "interface field": "label", "union member type": "code"}.get(kind)
    if kind == "entity field through _entities":
        [billing] = run.apps["billing"].entity_requests()
        assert "balance" not in billing["query"]
    elif removed is not None:
        assert all(removed not in body["query"] for body in run.apps["accounts"].requests)
    run.reset()
    assert await run.query(query, claims=having) == {"data": allowed_data}
