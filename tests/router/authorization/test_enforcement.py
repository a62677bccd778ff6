"""@authenticated, @requiresScopes and @policy enforced by the router before planning: the
``authorization`` subgraph set served over real HTTP, subgraph calls counted (docs/router.md §8.2)."""

from __future__ import annotations

from typing import Any

import pytest

from router.gateway import GatewayOptions
from router.stages import AuthorizationOptions, PolicyError, PolicyTable

POLICIES = {"admin": "role == ADMIN"}
CUSTOMER = {"sub": "u2", "role": "CUSTOMER"}
ADMIN = {"sub": "u1", "role": "ADMIN"}


def unauthorized(*paths: list[Any]) -> list[dict[str, Any]]:
    return [
        {"message": "Unauthorized field or type", "path": p, "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"}}
        for p in paths
    ]


def options(**kwargs: Any) -> GatewayOptions:
    return GatewayOptions(authorization=AuthorizationOptions(policies=PolicyTable(POLICIES), **kwargs))


@pytest.fixture
async def auth_set(run_set):
    return await run_set("authorization", options=options())


async def test_authenticated_root_field_is_null_with_error_for_anonymous(auth_set):
    body = await auth_set.query("{ me { name } users { id } }")
    assert body == {
        "data": {"me": None, "users": [{"id": "u1"}, {"id": "u2"}]},
        "errors": unauthorized(["me"]),
    }
    assert auth_set.calls() == ["accounts"]
    auth_set.reset()
    body = await auth_set.query("{ me { name } users { id } }", claims=CUSTOMER)
    assert body == {"data": {"me": {"name": "Bob"}, "users": [{"id": "u1"}, {"id": "u2"}]}}


async def test_scoped_object_field_in_a_list_errors_at_each_item(auth_set):
    query = "{ users { id mail: email } }"
    body = await auth_set.query(query, claims=CUSTOMER)
    assert body["data"] == {"users": [{"id": "u1", "mail": None}, {"id": "u2", "mail": None}]}
    assert body["errors"] == unauthorized(["users", 0, "mail"], ["users", 1, "mail"])
    # One group of the OR is enough: the `scope` string claim, or a `scopes` list.
    for claims in ({**CUSTOMER, "scope": "openid read:email"}, {**CUSTOMER, "scopes": ["admin"]}):
        body = await auth_set.query(query, claims=claims)
        assert body == {
            "data": {"users": [{"id": "u1", "mail": "ada@example.com"}, {"id": "u2", "mail": "bob@example.com"}]}
        }


async def test_entity_field_is_not_fetched_and_non_null_propagates(auth_set):
    # User.balance (billing, Int!, needs billing:read) is reached through _entities.
    body = await auth_set.query('{ user(id: "u1") { name balance } }', claims=CUSTOMER)
    assert body == {"data": {"user": None}, "errors": unauthorized(["user", "balance"])}
    assert auth_set.calls() == ["accounts"]  # billing is never asked
    auth_set.reset()
    body = await auth_set.query('{ user(id: "u1") { name balance } }', claims={**CUSTOMER, "scope": "billing:read"})
    assert body == {"data": {"user": {"name": "Ada", "balance": 120}}}
    assert auth_set.calls() == ["accounts", "billing"]


async def test_type_level_enum_policy_on_entity_field(auth_set):
    query = "{ users { id plan tier } }"
    body = await auth_set.query(query, claims=CUSTOMER)
    assert body["data"] == {
        "users": [{"id": "u1", "plan": "pro", "tier": None}, {"id": "u2", "plan": "free", "tier": None}]
    }
    assert body["errors"] == unauthorized(["users", 0, "tier"], ["users", 1, "tier"])
    [reps] = auth_set.reps("billing")
    assert len(reps) == 2
    [request] = auth_set.apps["billing"].entity_requests()
    assert "tier" not in request["query"]
    body = await auth_set.query(query, claims=ADMIN)
    assert body == {
        "data": {"users": [{"id": "u1", "plan": "pro", "tier": "PRO"}, {"id": "u2", "plan": "free", "tier": "FREE"}]}
    }


async def test_type_level_scalar_and_no_call_when_all_entity_fields_are_removed(auth_set):
    body = await auth_set.query("{ users { id iban } }")
    assert body["data"] == {"users": [{"id": "u1", "iban": None}, {"id": "u2", "iban": None}]}
    assert body["errors"] == unauthorized(["users", 0, "iban"], ["users", 1, "iban"])
    assert auth_set.calls() == ["accounts"]
    body = await auth_set.query("{ users { id iban } }", claims=CUSTOMER)
    assert body == {"data": {"users": [{"id": "u1", "iban": "ID-001"}, {"id": "u2", "iban": "ID-002"}]}}


async def test_interface_field_takes_the_strictest_implementation(auth_set):
    # Post.label is @authenticated, User.label is not: Node.label is denied to anonymous callers.
    body = await auth_set.query("{ nodes { id label } }")
    assert body == {
        "data": {"nodes": [{"id": "u1", "label": None}, {"id": "p1", "label": None}]},
        "errors": unauthorized(["nodes", 0, "label"], ["nodes", 1, "label"]),
    }
    # Asked on the concrete type, User.label is open and Post.label is not.
    body = await auth_set.query("{ nodes { id ... on User { label } ... on Post { title label } } }")
    assert body == {
        "data": {"nodes": [{"id": "u1", "label": "admin"}, {"id": "p1", "title": "Hello", "label": None}]},
        "errors": unauthorized(["nodes", 1, "label"]),
    }
    body = await auth_set.query("{ nodes { id label } }", claims=CUSTOMER)
    assert body == {"data": {"nodes": [{"id": "u1", "label": "admin"}, {"id": "p1", "label": "draft"}]}}


async def test_union_member_with_type_level_directive(auth_set):
    inline = "{ feed { __typename ... on Post { title } ... on Secret { code } } }"
    named = "{ feed { __typename ...P ...S } } fragment P on Post { title } fragment S on Secret { code }"
    for query in (inline, named):
        body = await auth_set.query(query)
        assert body == {
            "data": {"feed": [{"__typename": "Post", "title": "Hello"}, {"__typename": "Secret"}]},
            "errors": unauthorized(["feed", 1]),
        }
        [request] = auth_set.apps["accounts"].requests[-1:]
        assert "code" not in request["query"]
        body = await auth_set.query(query, claims=CUSTOMER)
        assert body == {
            "data": {"feed": [{"__typename": "Post", "title": "Hello"}, {"__typename": "Secret", "code": "0000"}]}
        }


async def test_field_through_a_named_fragment(auth_set):
    query = "query Q { users { ...U } } fragment U on User { id email }"
    body = await auth_set.query(query)
    assert body["errors"] == unauthorized(["users", 0, "email"], ["users", 1, "email"])


async def test_non_null_root_field_and_nothing_left_to_fetch(auth_set):
    body = await auth_set.query("{ opsCount }", claims=CUSTOMER)
    assert body == {"data": None, "errors": unauthorized(["opsCount"])}
    assert auth_set.calls() == []
    body = await auth_set.query("{ opsCount }", claims={**CUSTOMER, "scope": "ops"})
    assert body == {"data": {"opsCount": 7}}


async def test_policy_rule_over_claims(auth_set):
    assert (await auth_set.query("{ auditLog }", claims=CUSTOMER)) == {
        "data": {"auditLog": None},
        "errors": unauthorized(["auditLog"]),
    }
    assert (await auth_set.query("{ auditLog }", claims=ADMIN)) == {"data": {"auditLog": ["u1 signed in"]}}


async def test_plans_are_cached_per_authorization_outcome(auth_set):
    query = "{ users { id plan tier } }"
    anonymous_first = await auth_set.query(query, claims=CUSTOMER)
    admin = await auth_set.query(query, claims=ADMIN)
    anonymous_again = await auth_set.query(query, claims=CUSTOMER)
    admin_again = await auth_set.query(query, claims=ADMIN)
    assert anonymous_first == anonymous_again and "errors" in anonymous_first
    assert admin == admin_again and "errors" not in admin
    assert admin["data"]["users"][0]["tier"] == "PRO"
    gateway = auth_set.gateway
    assert (gateway.plan_cache_misses, gateway.plan_cache_hits) == (2, 2)


async def test_reject_unauthorized_refuses_the_whole_operation(run_set):
    run = await run_set("authorization", options=options(reject_unauthorized=True))
    body = await run.query("{ me { name } users { id email } }")
    assert "data" not in body
    assert body["errors"] == unauthorized(["me"], ["users", "email"])
    assert run.calls() == []
    body = await run.query("{ me { name } }", claims=CUSTOMER)
    assert body == {"data": {"me": {"name": "Bob"}}}


async def test_dry_run_reports_without_removing(run_set, caplog):
    run = await run_set("authorization", options=options(dry_run=True))
    with caplog.at_level("INFO", logger="router.authorization"):
        body = await run.query("{ me { name } }")
    assert body == {"data": {"me": {"name": "Bob"}}, "errors": unauthorized(["me"])}
    assert "would remove" in caplog.text


async def test_switched_off_nothing_is_enforced(run_set):
    run = await run_set("authorization", options=options(enabled=False))
    assert await run.query("{ me { name } auditLog }") == {
        "data": {"me": {"name": "Bob"}, "auditLog": ["u1 signed in"]}
    }


async def test_python_callable_policy_and_unconfigured_policy(run_set):
    run = await run_set(
        "authorization",
        options=GatewayOptions(
            authorization=AuthorizationOptions(
                policies=PolicyTable({"admin": "python:tests.router.authorization.policies:is_staff"})
            )
        ),
    )
    assert (await run.query("{ auditLog }", claims={"sub": "x", "staff": True})) == {
        "data": {"auditLog": ["u1 signed in"]}
    }
    assert "errors" in await run.query("{ auditLog }", claims={"sub": "x"})
    unconfigured = await run_set("authorization")  # no policies configured: denied
    assert (await unconfigured.query("{ auditLog }", claims=ADMIN))["errors"] == unauthorized(["auditLog"])


@pytest.mark.parametrize(
    ("rule", "claims", "allowed"),
    [
        ("role in [ADMIN, SUPPORT]", {"role": "SUPPORT"}, True),
        ("role != SERVICE", {}, True),
        ("scope has payments:refund", {"scope": "a payments:refund"}, True),
        ("tenant.id == t1 and role == ADMIN", {"tenant": {"id": "t1"}, "role": "ADMIN"}, True),
        ("tenant.id == t1 and role == ADMIN", {"tenant": {"id": "t2"}, "role": "ADMIN"}, False),
    ],
)
def test_policy_rules(rule, claims, allowed):
    assert PolicyTable({"p": rule}).allows("p", claims) is allowed


@pytest.mark.parametrize("rule", ["role", "role ~= x", "role in ADMIN", "python:nowhere.module:f", ""])
def test_malformed_policy_rules_are_refused(rule):
    with pytest.raises(PolicyError):
        PolicyTable({"p": rule})


def test_settings_refuse_a_malformed_policy_at_startup(monkeypatch):
    from pydantic import ValidationError

    from router.settings import RouterSettings

    monkeypatch.setenv("ROUTER_AUTHORIZATION__POLICIES", '{"admin": "role is ADMIN"}')
    with pytest.raises(ValidationError, match="policy 'admin'"):
        RouterSettings()
    monkeypatch.setenv("ROUTER_AUTHORIZATION__POLICIES", '{"admin": "role == ADMIN", "ops": "scope has ops"}')
    assert RouterSettings().authorization.policies["ops"] == "scope has ops"


async def test_a_selection_left_empty_gets_a_typename_placeholder(auth_set):
    body = await auth_set.query('{ user(id: "u1") { email } }')
    assert body == {"data": {"user": {"email": None}}, "errors": unauthorized(["user", "email"])}
    [request] = auth_set.apps["accounts"].requests
    assert "__typename" in request["query"] and "email" not in request["query"]
    # Every root field removed: nothing is fetched, the root __typename is still answered.
    auth_set.reset()
    body = await auth_set.query("{ __typename auditLog }", claims=CUSTOMER)
    assert body == {"data": {"__typename": "Query", "auditLog": None}, "errors": unauthorized(["auditLog"])}
    assert auth_set.calls() == []
