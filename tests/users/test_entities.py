"""``_entities`` for Customer: one query for many references, and authorisation per item."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette

from .conftest import BUDI, SITI, GraphQL, codes, insert_customers

ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Customer { id name email } }
}
"""


def refs(*ids: str) -> dict[str, object]:
    return {"representations": [{"__typename": "Customer", "id": i} for i in ids]}


async def test_twenty_references_cost_one_select(
    gql: GraphQL, app: Starlette, sql_log: Callable[[], list[str]]
) -> None:
    ids = await insert_customers(app, 20)
    token = gql.admin_token()
    await gql("{ me { id } }", token=token)  # the token's session check, cached for a few seconds
    before = len(sql_log())
    body = await gql(ENTITIES, refs(*ids), token=token)
    assert "errors" not in body, body
    assert [e["id"] for e in body["data"]["_entities"]] == ids
    assert [e["name"] for e in body["data"]["_entities"]] == [f"Pelanggan {n}" for n in range(20)]
    selects = sql_log()[before:]
    assert len(selects) == 1, selects
    assert " IN " in selects[0].upper()


async def test_an_admin_resolves_everyone_and_unknown_ids_are_null(gql: GraphQL) -> None:
    body = await gql(
        ENTITIES, refs(SITI.id, "00000000-0000-4000-8000-0000000000ff", "junk", BUDI.id), token=gql.admin_token()
    )
    assert "errors" not in body, body
    entities = body["data"]["_entities"]
    assert [e and e["id"] for e in entities] == [SITI.id, None, None, BUDI.id]


async def test_a_customer_resolves_only_their_own_entity(gql: GraphQL, sql_log: Callable[[], list[str]]) -> None:
    token = gql.token(SITI.id)
    await gql("{ me { id } }", token=token)  # the token's session check, cached for a few seconds
    before = len(sql_log())
    body = await gql(ENTITIES, refs(BUDI.id, SITI.id, BUDI.id, SITI.id), token=token)
    entities = body["data"]["_entities"]
    assert entities[0] is None and entities[2] is None
    assert entities[1] == entities[3] == {"id": SITI.id, "name": SITI.name, "email": SITI.email}
    assert codes(body) == ["FORBIDDEN", "FORBIDDEN"]
    assert sorted(e["path"][1] for e in body["errors"]) == [0, 2]
    assert len(sql_log()[before:]) == 1  # the refused items were never loaded


async def test_anonymous_callers_resolve_nothing(gql: GraphQL) -> None:
    body = await gql(ENTITIES, refs(SITI.id))
    assert body["data"]["_entities"] == [None]
    assert codes(body) == ["UNAUTHENTICATED"]
