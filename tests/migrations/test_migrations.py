"""Each service's migration history builds exactly the schema its models describe, on SQLite
and PostgreSQL; ``check`` refuses stale databases; migrating is idempotent and safe to race."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, String, inspect, text

from setrum_common.db import Database
from setrum_common.migrations import (
    MigrationError,
    Migrations,
    current_revisions,
    ensure_schema,
    migration_status,
    schema_differences,
    upgrade_to_head,
)

from .conftest import SERVICES, Service

pytestmark = pytest.mark.parametrize("service", SERVICES, ids=[s.package for s in SERVICES])

OpenDb = Callable[[], Database]


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrated_database_matches_the_models(service: Service, open_db: OpenDb) -> None:
    db = open_db()
    await upgrade_to_head(db, service.migrations)

    assert await schema_differences(db, service.migrations, service.metadata) == []
    assert await current_revisions(db, service.migrations) == service.migrations.heads()
    assert await migration_status(db, service.migrations) == "current"
    tables = await _tables(db)
    assert set(service.metadata.tables) | {service.migrations.version_table} == tables


async def test_the_comparison_sees_a_model_the_migrations_lack(service: Service, open_db: OpenDb) -> None:
    # Guards the test above: a model change without a migration must show up as a difference.
    db = open_db()
    await upgrade_to_head(db, service.migrations)
    changed = service.metadata.__class__(naming_convention=service.metadata.naming_convention)
    for table in service.metadata.tables.values():
        table.to_metadata(changed)
    first = sorted(changed.tables)[0]
    changed.tables[first].append_column(Column("added_without_migration", String(10)))
    from sqlalchemy import Table

    Table(f"{first}_new", changed, Column("id", Integer, primary_key=True))

    differences = await schema_differences(db, service.migrations, changed)

    kinds = {(d[0], d[2] if d[0] == "add_column" else None) for d in differences if isinstance(d, tuple)}
    assert ("add_column", first) in kinds
    assert any(d[0] == "add_table" and d[1].name == f"{first}_new" for d in differences if isinstance(d, tuple))


async def test_check_mode_refuses_an_empty_database(service: Service, open_db: OpenDb) -> None:
    db = open_db()
    with pytest.raises(MigrationError, match=r"not at the latest migration.*empty database"):
        await ensure_schema(db, service.migrations, "check")
    assert await migration_status(db, service.migrations) == "empty"
    # check never creates anything
    assert await _tables(db) == set()

    await ensure_schema(db, service.migrations, "migrate")
    await ensure_schema(db, service.migrations, "check")  # now accepted


async def test_check_mode_refuses_a_revision_it_does_not_know(service: Service, open_db: OpenDb) -> None:
    db = open_db()
    await upgrade_to_head(db, service.migrations)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"UPDATE {service.migrations.version_table} SET version_num = 'f00dfeed'"))

    assert await migration_status(db, service.migrations) == "unknown"
    with pytest.raises(MigrationError, match="database: f00dfeed"):
        await ensure_schema(db, service.migrations, "check")


async def test_migrating_twice_changes_nothing(service: Service, open_db: OpenDb) -> None:
    db = open_db()
    await ensure_schema(db, service.migrations, "migrate")
    tables = await _tables(db)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text(f"SELECT version_num FROM {service.migrations.version_table}"))).all()

    await ensure_schema(db, service.migrations, "migrate")

    assert await _tables(db) == tables
    async with db.engine.connect() as conn:
        again = (await conn.execute(text(f"SELECT version_num FROM {service.migrations.version_table}"))).all()
    assert again == rows and len(rows) == 1
    assert await schema_differences(db, service.migrations, service.metadata) == []


async def test_concurrent_migrations_do_not_collide(service: Service, open_db: OpenDb) -> None:
    # Separate engines stand for replicas starting at the same moment.
    replicas = [open_db() for _ in range(3)]
    # SQLite: switching a brand-new file to WAL cannot wait for a lock (SQLite answers "locked" at
    # once), so replicas share a file that already exists, as they would in practice.
    assert await replicas[0].ping()

    await asyncio.gather(*(upgrade_to_head(db, service.migrations) for db in replicas))

    db = replicas[0]
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text(f"SELECT version_num FROM {service.migrations.version_table}"))).all()
    assert [r[0] for r in rows] == sorted(service.migrations.heads())
    assert await schema_differences(db, service.migrations, service.metadata) == []


async def test_an_older_database_is_outdated_until_migrated(service: Service, open_db: OpenDb, tmp_path: Path) -> None:
    # A copy of the history plus one new revision stands for the next release of the code.
    newer = tmp_path / "migrations"
    shutil.copytree(service.migrations.directory, newer, ignore=shutil.ignore_patterns("__pycache__"))
    head = sorted(service.migrations.heads())[0]
    (newer / "versions" / "9999_next.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = '9999'\ndown_revision = {head!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n"
        "    op.create_table('next_release', sa.Column('id', sa.Integer, primary_key=True))\n\n\n"
        "def downgrade():\n"
        "    op.drop_table('next_release')\n"
    )
    next_release = Migrations(service.migrations.name, newer)
    db = open_db()
    await upgrade_to_head(db, service.migrations)

    assert await migration_status(db, next_release) == "outdated"
    with pytest.raises(MigrationError, match=f"database: {head}; code: 9999"):
        await ensure_schema(db, next_release, "check")

    await ensure_schema(db, next_release, "migrate")
    assert await migration_status(db, next_release) == "current"
    assert "next_release" in await _tables(db)
    # ...and the old code now sees a revision it does not know.
    assert await migration_status(db, service.migrations) == "unknown"


async def test_a_database_made_by_create_all_is_adopted(service: Service, open_db: OpenDb) -> None:
    # Databases from before migrations existed: same tables, no version table.
    db = open_db()
    await db.create_all(service.metadata)

    await ensure_schema(db, service.migrations, "migrate", metadata=service.metadata)

    assert await migration_status(db, service.migrations) == "current"
    assert await schema_differences(db, service.migrations, service.metadata) == []


async def test_an_unversioned_database_that_differs_is_refused(service: Service, open_db: OpenDb) -> None:
    db = open_db()
    await db.create_all(service.metadata)
    first = sorted(service.metadata.tables)[0]
    async with db.engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE {first} ADD COLUMN stray INTEGER"))

    with pytest.raises(MigrationError, match="no migration history, and they differ"):
        await ensure_schema(db, service.migrations, "migrate", metadata=service.metadata)
    assert await migration_status(db, service.migrations) == "empty"
