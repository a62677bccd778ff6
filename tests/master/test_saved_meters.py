"""Saved meters: saveMeter/removeMeter and the contributed Customer.meters, with authorization."""

from __future__ import annotations

from setrum_common import demo_data as demo

from .conftest import GraphQLClient, error_codes

SITI, BUDI = demo.CUSTOMERS[1], demo.CUSTOMERS[2]
SAVE = "mutation($n: String!, $a: String) { saveMeter(number: $n, alias: $a) { alias savedAt meter { number holderName } } }"
REMOVE = "mutation($n: String!) { removeMeter(number: $n) }"
ENTITIES = """
query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Customer { id meters { alias meter { number tariff { code } } } }
} }
"""


def _customer(customer_id: str) -> dict[str, str]:
    return {"__typename": "Customer", "id": customer_id}


async def _meters_of(gql: GraphQLClient, customer_id: str) -> list[tuple[str | None, str]]:
    result = await gql(ENTITIES, {"reps": [_customer(customer_id)]})
    assert "errors" not in result, result
    return [(m["alias"], m["meter"]["number"]) for m in result["data"]["_entities"][0]["meters"]]


async def test_customer_reads_own_seeded_meters(gql: GraphQLClient, siti_token: str) -> None:
    expected = [(alias, number) for cid, number, alias in demo.SAVED_METERS if cid == SITI.id]
    assert await _meters_of(gql.as_(siti_token), SITI.id) == expected


async def test_save_update_alias_and_remove(gql: GraphQLClient, siti_token: str) -> None:
    me = gql.as_(siti_token)
    target = demo.METERS[20]
    saved = (await me(SAVE, {"n": target.number, "a": "  Warung  "}))["data"]["saveMeter"]
    assert saved["alias"] == "Warung"
    assert saved["meter"] == {"number": target.number, "holderName": target.holder_name}
    # Saving again (even by IDPEL) updates the alias, never duplicates.
    again = await me(SAVE, {"n": target.idpel, "a": "Warung Bu Sri"})
    assert again["data"]["saveMeter"]["alias"] == "Warung Bu Sri"
    assert again["data"]["saveMeter"]["savedAt"] == saved["savedAt"]
    meters = await _meters_of(me, SITI.id)
    assert [n for _, n in meters].count(target.number) == 1
    assert ("Warung Bu Sri", target.number) in meters
    # savedMeters (the viewer's own list) agrees with Customer.meters.
    own = (await me("{ savedMeters { alias meter { number } } }"))["data"]["savedMeters"]
    assert [(m["alias"], m["meter"]["number"]) for m in own] == meters

    assert (await me(REMOVE, {"n": target.number}))["data"]["removeMeter"] is True
    assert (await me(REMOVE, {"n": target.number}))["data"]["removeMeter"] is False
    assert target.number not in [n for _, n in await _meters_of(me, SITI.id)]


async def test_save_meter_validation(gql: GraphQLClient, siti_token: str) -> None:
    me = gql.as_(siti_token)
    assert error_codes(await me(SAVE, {"n": "99999999990"})) == ["WRONG_CUSTOMER_NUMBER"]
    assert error_codes(await me(SAVE, {"n": "12"})) == ["WRONG_DIGIT_COUNT"]
    assert error_codes(await me(SAVE, {"n": demo.METERS[0].number, "a": "x" * 61})) == ["BAD_USER_INPUT"]


async def test_saved_meters_need_a_signed_in_customer(gql: GraphQLClient, service_token: str) -> None:
    assert error_codes(await gql(SAVE, {"n": demo.METERS[0].number})) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(REMOVE, {"n": demo.METERS[0].number})) == ["UNAUTHENTICATED"]
    assert error_codes(await gql.as_(service_token)(SAVE, {"n": demo.METERS[0].number})) == ["UNAUTHENTICATED"]


async def test_customer_entity_authorization(
    gql: GraphQLClient, siti_token: str, budi_token: str, admin_token: str, service_token: str
) -> None:
    reps = {"reps": [_customer(SITI.id), _customer(BUDI.id)]}
    # Budi sees his own entry; Siti's fails alone (FORBIDDEN), as a null item with a pathed error.
    result = await gql.as_(budi_token)(ENTITIES, reps)
    assert result["data"]["_entities"][0] is None
    assert result["data"]["_entities"][1]["id"] == BUDI.id
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["errors"][0]["path"] == ["_entities", 0]
    # Anonymous: nobody's.
    anonymous = await gql(ENTITIES, reps)
    assert anonymous["data"]["_entities"] == [None, None]
    assert set(error_codes(anonymous)) == {"UNAUTHENTICATED"}
    # Admin: everybody's. A service-role token: nobody's.
    result = await gql.as_(admin_token)(ENTITIES, reps)
    assert "errors" not in result, result
    assert [e["id"] for e in result["data"]["_entities"]] == [SITI.id, BUDI.id]
    assert len(result["data"]["_entities"][1]["meters"]) == 2
    assert set(error_codes(await gql.as_(service_token)(ENTITIES, reps))) == {"UNAUTHENTICATED"}
    # A customer's save is visible to the admin, not to other customers.
    await gql.as_(siti_token)(SAVE, {"n": demo.METERS[30].number, "a": "Kantor"})
    assert ("Kantor", demo.METERS[30].number) in await _meters_of(gql.as_(admin_token), SITI.id)
