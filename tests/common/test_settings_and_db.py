from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Integer, MetaData, select
from sqlalchemy.orm import Mapped, mapped_column

from setrum_common.db import NAMING_CONVENTION, Base, Database
from setrum_common.settings import ServiceSettings


def test_development_defaults_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SETRUM_ENV", raising=False)
    assert not ServiceSettings().is_production


def test_production_refuses_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETRUM_ENV", "production")
    with pytest.raises(ValidationError, match="development or short"):
        ServiceSettings()
    monkeypatch.setenv("SETRUM_JWT_SECRET", "p" * 40)
    monkeypatch.setenv("SETRUM_SERVICE_SECRET", "q" * 40)
    settings = ServiceSettings()
    assert settings.is_production and settings.json_logs


class _Base(Base):
    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Counter(_Base):
    __tablename__ = "test_counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


async def test_concurrent_read_modify_write_loses_no_update_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await db.create_all(_Base.metadata)
    async with db.transaction() as session:
        session.add(Counter(id=1, value=0))

    async def increment() -> None:
        async with db.transaction(write=True) as session:
            row = (await session.execute(select(Counter).where(Counter.id == 1))).scalar_one()
            await asyncio.sleep(0)  # let the others interleave
            row.value += 1

    await asyncio.gather(*(increment() for _ in range(40)))
    async with db.session() as session:
        assert (await session.get(Counter, 1)).value == 40
    assert await db.ping()
    await db.dispose()
