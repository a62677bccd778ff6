"""Who may read whom: customer(id) and the admin-only, paginated customers list."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from setrum_common.auth import Role
from setrum_common.demo_data import ADMIN, CUSTOMERS

from .conftest import BUDI, SITI, GraphQL, codes, insert_customers

CUSTOMER = "query ($id: ID!) { customer(id: $id) { id email role } }"
CUSTOMERS_PAGE = "query ($first: Int, $after: String) { customers(first: $first, after: $after) { id name } }"


async def test_customer_reads_only_themselves(gql: GraphQL) -> None:
    token = gql.token(SITI.id)
    own = await gql(CUSTOMER, {"id": SITI.id}, token=token)
    assert own == {"data": {"customer": {"id": SITI.id, "email": SITI.email, "role": "CUSTOMER"}}}
    other = await gql(CUSTOMER, {"id": BUDI.id}, token=token)
    assert other["data"] == {"customer": None}
    assert codes(other) == ["FORBIDDEN"]
    # No way to probe for ids that exist: an unknown id is forbidden too.
    assert codes(await gql(CUSTOMER, {"id": "00000000-0000-4000-8000-0000000000ff"}, token=token)) == ["FORBIDDEN"]
    assert codes(await gql(CUSTOMER, {"id": BUDI.id})) == ["UNAUTHENTICATED"]


async def test_admin_reads_anyone(gql: GraphQL) -> None:
    token = gql.admin_token()
    body = await gql(CUSTOMER, {"id": BUDI.id}, token=token)
    assert body["data"]["customer"] == {"id": BUDI.id, "email": BUDI.email, "role": "CUSTOMER"}
    for unknown in ("00000000-0000-4000-8000-0000000000ff", "not-a-uuid"):
        missing = await gql(CUSTOMER, {"id": unknown}, token=token)
        assert codes(missing) == ["NOT_FOUND"]


async def test_customers_is_admin_only(gql: GraphQL) -> None:
    assert codes(await gql(CUSTOMERS_PAGE)) == ["UNAUTHENTICATED"]
    assert codes(await gql(CUSTOMERS_PAGE, token=gql.token(SITI.id))) == ["FORBIDDEN"]
    # A customer token that merely claims to be someone else's still is not an admin.
    assert codes(await gql(CUSTOMERS_PAGE, token=gql.token(ADMIN.id, Role.CUSTOMER))) == ["FORBIDDEN"]
    # The attack: a SERVICE-role token listed every customer's email. Now it is nobody.
    assert codes(await gql(CUSTOMERS_PAGE, token=gql.service_token())) == ["UNAUTHENTICATED"]
    listed = await gql(CUSTOMERS_PAGE, token=gql.admin_token())
    assert [c["id"] for c in listed["data"]["customers"]] == [c.id for c in CUSTOMERS]


async def test_customers_pages_in_sign_up_order(gql: GraphQL, app: Starlette) -> None:
    added = await insert_customers(app, 7)
    expected = [c.id for c in CUSTOMERS] + added
    token = gql.admin_token()
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        body = await gql(CUSTOMERS_PAGE, {"first": 5, "after": after}, token=token)
        assert "errors" not in body, body
        page = [c["id"] for c in body["data"]["customers"]]
        pages += 1
        if not page:
            break
        assert len(page) <= 5
        seen += page
        after = page[-1]
    assert seen == expected
    assert pages == 4  # 5 + 5 + 2, then an empty page

    default: dict[str, Any] = await gql("{ customers { id } }", token=token)
    assert len(default["data"]["customers"]) == 12


async def test_customers_rejects_bad_paging_arguments(gql: GraphQL) -> None:
    token = gql.admin_token()
    for variables in (
        {"first": 0},
        {"first": 101},
        {"after": "nope"},
        {"after": "00000000-0000-4000-8000-0000000000ff"},
    ):
        body = await gql(CUSTOMERS_PAGE, variables, token=token)
        assert codes(body) == ["BAD_USER_INPUT"], variables
