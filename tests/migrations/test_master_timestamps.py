"""Master's 0003 migration: the naive UTC timestamps master used to store become the shared UTC
column (``timestamptz`` on PostgreSQL), and every stored instant stays the same."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import DateTime, bindparam, select, text
from sqlalchemy.engine import Connection

from setrum_common.db import Database
from setrum_common.migrations import Migrations, schema_differences, upgrade_to_head
from subgraphs.master.models import MasterBase, Meter, SavedMeter, Tariff

OpenDb = Callable[[], Database]

MIGRATIONS = Migrations.of_package("subgraphs.master")
EARLIER = datetime(2026, 1, 15, 3, 4, 5, 600_000)  # as master stored it: naive, meaning UTC
LATER = datetime(2026, 6, 30, 23, 59, 59)

# Rows as the old code wrote them (the times bound as naive DateTime, like the old column type).
_OLD_ROWS = [
    "INSERT INTO master_region (code, name) VALUES ('JKT', 'Jakarta')",
    "INSERT INTO master_tariff (code, description, min_va, max_va, rate, ppn_rate, effective_from, effective_to) "
    "VALUES ('R1', '', 0, 900, 1352000, 0, :earlier, :later)",
    "INSERT INTO master_meter (number, idpel, holder_name, tariff_code, power_va, region_code, status, instalment, "
    "instalment_debt, created_at, updated_at) VALUES ('14233784991', '512345678901', 'Siti', 'R1', 900, 'JKT', "
    "'ACTIVE', 0, 0, :earlier, :later)",
    "INSERT INTO master_saved_meter (customer_id, meter_number, alias, saved_at) "
    "VALUES ('c1', '14233784991', NULL, :earlier)",
]
_TIMES = (bindparam("earlier", type_=DateTime()), bindparam("later", type_=DateTime()))


async def _upgrade_to(db: Database, revision: str) -> None:
    cfg = MIGRATIONS.config()

    def _run(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)


async def test_naive_rows_keep_their_instants_as_utc(open_db: OpenDb) -> None:
    db = open_db()
    await _upgrade_to(db, "0002")  # the last revision with naive timestamps
    async with db.engine.begin() as conn:
        for statement in _OLD_ROWS:
            times = tuple(p for p in _TIMES if f":{p.key}" in statement)
            await conn.execute(text(statement).bindparams(*times), {"earlier": EARLIER, "later": LATER})

    await upgrade_to_head(db, MIGRATIONS)

    assert await schema_differences(db, MIGRATIONS, MasterBase.metadata) == []
    earlier, later = EARLIER.replace(tzinfo=UTC), LATER.replace(tzinfo=UTC)
    async with db.session() as session:
        tariff = (await session.execute(select(Tariff))).scalar_one()
        meter = (await session.execute(select(Meter))).scalar_one()
        saved = (await session.execute(select(SavedMeter))).scalar_one()
    assert (tariff.effective_from, tariff.effective_to) == (earlier, later)
    assert (meter.created_at, meter.updated_at) == (earlier, later)
    assert saved.saved_at == earlier
    if db.engine.dialect.name == "postgresql":
        async with db.engine.connect() as conn:
            found = await conn.execute(
                text(
                    "SELECT DISTINCT data_type FROM information_schema.columns WHERE table_name LIKE 'master%' "
                    "AND column_name IN ('effective_from', 'effective_to', 'created_at', 'updated_at', 'saved_at')"
                )
            )
            assert set(found.scalars()) == {"timestamp with time zone"}


async def test_a_database_with_saved_meters_upgrades_from_the_first_revision(open_db: OpenDb) -> None:
    """Rebuilding ``master_meter`` (SQLite's batch mode) must not trip the saved meters' foreign key."""
    db = open_db()
    await _upgrade_to(db, "0001")
    async with db.engine.begin() as conn:
        for statement in _OLD_ROWS:
            if statement.startswith("INSERT INTO master_meter"):  # 0001 has no instalment_debt yet
                statement = statement.replace("instalment, instalment_debt,", "instalment,").replace(
                    "0, 0, :e", "0, :e"
                )
            times = tuple(p for p in _TIMES if f":{p.key}" in statement)
            await conn.execute(text(statement).bindparams(*times), {"earlier": EARLIER, "later": LATER})

    await upgrade_to_head(db, MIGRATIONS)

    assert await schema_differences(db, MIGRATIONS, MasterBase.metadata) == []
    async with db.session() as session:
        saved = (await session.execute(select(SavedMeter))).scalar_one()
        meter = (await session.execute(select(Meter))).scalar_one()
    assert (saved.meter_number, meter.number, meter.instalment_debt) == ("14233784991", "14233784991", 0)
