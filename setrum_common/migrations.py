"""Alembic, run from inside a service: one migration history per service.

Each service keeps ``migrations/`` (``env.py`` + ``versions/``) beside its models and records
its revision in its own version table (``users_alembic_version``…), so several services may
even share one database. At start-up a service either upgrades its database to head
(``schema_mode=migrate``, the default) or refuses to start when the database is not at head
(``schema_mode=check``), so a replica never runs against a schema it does not expect.

Concurrent start-ups are serialised by the database itself: an advisory transaction lock on
PostgreSQL, ``BEGIN IMMEDIATE`` (the write lock) on SQLite. The loser waits, then finds the
schema at head and does nothing.

Developers make new revisions with the CLI, which autogenerates against a throw-away SQLite
database migrated to the current head::

    python -m setrum_common.migrations subgraphs.users revision -m "add customer locale"
    python -m setrum_common.migrations subgraphs.users upgrade --url postgresql+asyncpg://…
    python -m setrum_common.migrations biller check --url …
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from .db import Database

__all__ = [
    "MigrationError",
    "Migrations",
    "SCHEMA_MODES",
    "alembic_config",
    "current_revisions",
    "ensure_schema",
    "run_env",
    "schema_differences",
    "upgrade_to_head",
    "main",
    "migration_status",
]

SCHEMA_MODES = ("migrate", "check", "create")


class MigrationError(RuntimeError):
    """The database schema is not what this code expects."""


def alembic_config(script_location: Path, *, version_table: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["version_table"] = version_table
    return cfg


@dataclass(frozen=True)
class Migrations:
    """Where a service's migration history lives and which version table records it."""

    name: str
    directory: Path

    @property
    def version_table(self) -> str:
        return f"{self.name}_alembic_version"

    def config(self) -> Config:
        return alembic_config(self.directory, version_table=self.version_table)

    def heads(self) -> set[str]:
        return set(ScriptDirectory.from_config(self.config()).get_heads())

    @classmethod
    def of_package(cls, package: str) -> Migrations:
        """``subgraphs.users`` -> ``subgraphs/users/migrations`` recorded in ``users_alembic_version``."""
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise MigrationError(f"{package!r} is not a package")
        return cls(package.rsplit(".", 1)[-1], Path(next(iter(spec.submodule_search_locations))) / "migrations")


def _as_config(migrations: Migrations | Config) -> Config:
    return migrations.config() if isinstance(migrations, Migrations) else migrations


def _heads(cfg: Config) -> set[str]:
    return set(ScriptDirectory.from_config(cfg).get_heads())


def _current(connection: Connection, version_table: str) -> set[str]:
    ctx = MigrationContext.configure(connection, opts={"version_table": version_table})
    return set(ctx.get_current_heads())


async def upgrade_to_head(db: Database, migrations: Migrations | Config, *, metadata: MetaData | None = None) -> None:
    """Upgrade to head in one transaction, holding the database's migration lock.

    With ``metadata``, a database made by ``create_all`` before this service had migrations
    (no version table, but its tables exist) is adopted: stamped at head when it matches the
    models exactly, refused otherwise."""
    cfg = _as_config(migrations)
    version_table = cfg.attributes["version_table"]
    lock_id = zlib.crc32(version_table.encode())

    def _upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        cfg.attributes["connection"] = connection
        try:
            if metadata is not None and _unversioned_tables(connection, version_table, metadata):
                _adopt(connection, cfg, metadata)
            else:
                command.upgrade(cfg, "head")
        finally:
            cfg.attributes.pop("connection", None)

    # On SQLite, "setrum_write" makes the transaction BEGIN IMMEDIATE: a second migrator
    # waits for the write lock instead of racing to CREATE TABLE.
    async with db.engine.execution_options(setrum_write=True).begin() as conn:
        await conn.run_sync(_upgrade)


def _unversioned_tables(connection: Connection, version_table: str, metadata: MetaData) -> bool:
    if _current(connection, version_table):
        return False
    return bool(set(inspect(connection).get_table_names()) & set(metadata.tables))


def _adopt(connection: Connection, cfg: Config, metadata: MetaData) -> None:
    ctx = MigrationContext.configure(connection, opts=_context_options(cfg, metadata, connection))
    differences = compare_metadata(ctx, metadata)
    if differences:
        raise MigrationError(
            "the database has this service's tables but no migration history, and they differ from "
            f"the models ({len(differences)} differences, first: {differences[0]!r}); "
            "migrate it by hand or start from an empty database"
        )
    command.stamp(cfg, "head")


async def current_revisions(db: Database, migrations: Migrations | Config) -> set[str]:
    """The revisions recorded in the database (empty when never migrated)."""
    version_table = _as_config(migrations).attributes["version_table"]
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: _current(c, version_table))


async def migration_status(db: Database, migrations: Migrations | Config, heads: set[str] | None = None) -> str:
    """``current``, ``empty`` (never migrated), ``outdated`` (an older revision of this history)
    or ``unknown`` (a revision this code does not know: newer code migrated the database)."""
    cfg = _as_config(migrations)
    heads = _heads(cfg) if heads is None else heads
    current = await current_revisions(db, cfg)
    if current == heads:
        return "current"
    if not current:
        return "empty"
    script = ScriptDirectory.from_config(cfg)
    known = {rev.revision for rev in script.walk_revisions()}
    return "outdated" if current <= known else "unknown"


async def ensure_schema(
    db: Database, migrations: Migrations | Config, mode: str, *, metadata: MetaData | None = None
) -> None:
    """``migrate``: upgrade to head. ``check``: refuse a database not at head.
    ``create``: ``metadata.create_all`` (throw-away test databases; no history recorded)."""
    cfg = _as_config(migrations)
    if mode == "migrate":
        await upgrade_to_head(db, cfg, metadata=metadata)
    elif mode == "check":
        current, heads = await current_revisions(db, cfg), _heads(cfg)
        if current != heads:
            found = ", ".join(sorted(current)) or "none (empty database)"
            raise MigrationError(
                f"database schema is not at the latest migration (database: {found}; code: "
                f"{', '.join(sorted(heads))}); start one instance with schema_mode=migrate or run "
                "`python -m setrum_common.migrations <package> upgrade` first"
            )
    elif mode == "create":
        if metadata is None:
            raise ValueError("schema mode 'create' needs the metadata")
        await db.create_all(metadata)
    else:
        raise ValueError(f"unknown schema mode {mode!r}; expected one of {', '.join(SCHEMA_MODES)}")


async def schema_differences(db: Database, migrations: Migrations | Config, metadata: MetaData) -> list[Any]:
    """What alembic autogenerate would change to make the database match ``metadata`` (empty: equal)."""
    cfg = _as_config(migrations)

    def _compare(connection: Connection) -> list[Any]:
        ctx = MigrationContext.configure(connection, opts=_context_options(cfg, metadata, connection))
        return list(compare_metadata(ctx, metadata))

    async with db.engine.connect() as conn:
        return await conn.run_sync(_compare)


def _render_item(type_: str, obj: Any, _autogen_context: Any) -> Any:
    # Render our TypeDecorators (UTCDateTime…) as their plain SQL type: a migration must not
    # import application models, which keep changing after the migration is written.
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _context_options(cfg: Config, metadata: MetaData, connection: Connection) -> dict[str, Any]:
    return {
        "target_metadata": metadata,
        "version_table": cfg.attributes["version_table"],
        "render_as_batch": connection.dialect.name == "sqlite",
        "compare_type": True,
        "compare_server_default": True,
        "render_item": _render_item,
    }


def run_env(context: Any, metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    cfg = context.config
    connection = cfg.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through the service or `python -m setrum_common.migrations`, not the alembic CLI"
        )
    context.configure(connection=connection, **_context_options(cfg, metadata, connection))
    with context.begin_transaction():
        context.run_migrations()


# ---------------------------------------------------------------------------- CLI


async def _revision(migrations: Migrations, message: str, rev_id: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/autogenerate.db")
        try:
            await upgrade_to_head(db, migrations)
            cfg = migrations.config()

            def _generate(connection: Connection) -> None:
                cfg.attributes["connection"] = connection
                command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)

            async with db.engine.begin() as conn:
                await conn.run_sync(_generate)
        finally:
            await db.dispose()


async def _run(args: argparse.Namespace) -> int:
    migrations = Migrations.of_package(args.package)
    if args.command == "revision":
        await _revision(migrations, args.message, args.rev_id)
        return 0
    if not args.url:
        print("--url is required", file=sys.stderr)
        return 2
    db = Database(args.url)
    try:
        if args.command == "upgrade":
            await upgrade_to_head(db, migrations)
            print(f"{migrations.name}: at {', '.join(sorted(migrations.heads()))}")
            return 0
        current = await current_revisions(db, migrations)
        print(f"{migrations.name}: database {', '.join(sorted(current)) or 'empty'}; "
              f"code {', '.join(sorted(migrations.heads()))}")  # fmt: skip
        return 0 if current == migrations.heads() else 1
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m setrum_common.migrations", description=__doc__.split("\n")[0])
    parser.add_argument(
        "package", help="service package: subgraphs.users, subgraphs.master, subgraphs.transactions, biller"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("upgrade", "upgrade the database to head"), ("check", "exit 1 unless at head")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--url", help="SQLAlchemy async database URL")
    revision = commands.add_parser("revision", help="autogenerate a revision from the models")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument("--rev-id", help="revision id (default: random)")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    raise SystemExit(main())
