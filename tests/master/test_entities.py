"""Federation: batched Meter references, the SDL contract, and idempotent seeding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from setrum_common import demo_data as demo
from setrum_common.service_app import print_sdl
from subgraphs.master.models import Channel, Denomination, Meter, PpjRule, Region, SavedMeter, Tariff
from subgraphs.master.schema import schema
from subgraphs.master.seed import seed_demo_data

from .conftest import GraphQLClient, StatementLog

METER_ENTITIES = """
query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Meter { number idpel holderName powerVa status monthlyKwhLimit tariff { code rate } region { code name } }
} }
"""


async def test_meter_references_resolve_in_one_select(gql: GraphQLClient, sql: StatementLog) -> None:
    meters = demo.METERS[:20]
    reps = [{"__typename": "Meter", "number": m.number} for m in meters]
    reps.append({"__typename": "Meter", "number": "99999999999"})  # unknown -> null, not an error
    sql.clear()
    result = await gql(METER_ENTITIES, {"reps": reps})
    assert "errors" not in result, result
    entities = result["data"]["_entities"]
    assert [e["number"] if e else None for e in entities] == [m.number for m in meters] + [None]
    for entity, meter in zip(entities, meters, strict=False):
        assert entity["holderName"] == meter.holder_name
        assert entity["tariff"]["code"] == meter.tariff_code
        assert entity["region"]["code"] == meter.region
    # Meters, tariffs in effect and regions for all 21 references: ONE select.
    assert len(sql.selects) == 1, sql.selects


async def test_customer_meters_batched(gql: GraphQLClient, admin_token: str, sql: StatementLog) -> None:
    customers = sorted({cid for cid, _, _ in demo.SAVED_METERS})
    query = """query($reps: [_Any!]!) { _entities(representations: $reps) {
      ... on Customer { id meters { alias meter { number tariff { code } region { name ppjRules { rate } } } } } } }"""
    sql.clear()
    result = await gql.as_(admin_token)(query, {"reps": [{"__typename": "Customer", "id": c} for c in customers]})
    assert "errors" not in result, result
    assert sum(len(e["meters"]) for e in result["data"]["_entities"]) == len(demo.SAVED_METERS)
    # saved meters, meters (with tariff and region), PPJ rules: three selects, whatever the count.
    assert len(sql.selects) == 3, sql.selects


async def test_service_sdl_matches_checked_in_file(gql: GraphQLClient) -> None:
    checked_in = (Path(__file__).parents[2] / "schema" / "master.graphql").read_text()
    served = (await gql("{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert served.rstrip() + "\n" == checked_in
    assert print_sdl(schema) == checked_in
    assert 'type Meter @key(fields: "number")' in checked_in
    assert 'type Customer @key(fields: "id")' in checked_in


async def _counts(app: Any) -> dict[str, int]:
    async with app.state.db.session() as session:
        return {
            model.__tablename__: (await session.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Region, PpjRule, Tariff, Meter, Denomination, Channel, SavedMeter)
        }


async def test_seeding_twice_creates_no_duplicates(app: Any) -> None:
    first = await _counts(app)
    assert first == {
        "master_region": len(demo.REGIONS),
        "master_ppj_rule": len(demo.PPJ_RULES),
        "master_tariff": len(demo.TARIFFS),
        "master_meter": len(demo.METERS),
        "master_denomination": len(demo.DENOMINATIONS),
        "master_channel": len(demo.CHANNEL_ADMIN_FEES),
        "master_saved_meter": len(demo.SAVED_METERS),
    }
    await seed_demo_data(app.state.db)
    await seed_demo_data(app.state.db)
    assert await _counts(app) == first


async def test_health(gql: GraphQLClient) -> None:
    response = await gql.http.get("/health")
    assert response.json() == {"status": "UP", "service": "master"}
