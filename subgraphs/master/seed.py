"""Load the shared demo data set (``setrum_common.demo_data``) idempotently.

Every row is inserted only when its natural key is missing, so seeding twice (or seeding a
database an admin has since edited) never duplicates or overwrites anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from setrum_common import demo_data as demo
from setrum_common.db import Database

from .models import Channel, Denomination, Meter, PpjRule, Region, SavedMeter, StampDutyRule, Tariff

__all__ = ["seed_demo_data"]

_Item = TypeVar("_Item")
_TARIFF_START = datetime.combine(demo.TARIFF_EFFECTIVE_FROM, datetime.min.time(), tzinfo=UTC)


async def _add_missing(
    session: AsyncSession,
    key_columns: tuple[InstrumentedAttribute[Any], ...],
    items: Iterable[_Item],
    key: Callable[[_Item], tuple[Any, ...]],
    row: Callable[[_Item], object],
) -> list[_Item]:
    """Add a row for each item whose natural key (``key``, the values of ``key_columns``) is not stored yet;
    the items added."""
    present = {tuple(stored) for stored in await session.execute(select(*key_columns))}
    missing = [item for item in items if key(item) not in present]
    session.add_all(row(item) for item in missing)
    return missing


def _tariff(t: demo.DemoTariff) -> Tariff:
    return Tariff(
        code=t.code,
        description=t.description,
        min_va=t.min_va,
        max_va=t.max_va,
        rate=t.rate,
        ppn_rate=t.ppn_rate,
        effective_from=_TARIFF_START,
        effective_to=None,
    )


def _meter(m: demo.DemoMeter) -> Meter:
    return Meter(
        number=m.number,
        idpel=m.idpel,
        holder_name=m.holder_name,
        tariff_code=m.tariff_code,
        power_va=m.power_va,
        region_code=m.region,
        status=m.status,
        instalment=m.instalment,
        instalment_debt=m.instalment_debt,
    )


async def _seed_once(db: Database) -> None:
    async with db.transaction() as session:
        missing = await _add_missing(
            session, (Region.code,), demo.REGIONS, lambda r: (r.code,), lambda r: Region(code=r.code, name=r.name)
        )
        await session.flush()  # no ORM relationships: rows go in only after their region
        for region in missing:
            rules = [r for r in demo.PPJ_RULES if r.region == region.code]
            for position, rule in enumerate(rules):
                session.add(
                    PpjRule(
                        region_code=region.code,
                        rate=rule.rate,
                        tariff_classes=",".join(rule.tariff_classes),
                        min_va=rule.min_va,
                        max_va=rule.max_va,
                        position=position,
                    )
                )
        await session.flush()

        await _add_missing(session, (Tariff.code, Tariff.min_va), demo.TARIFFS, lambda t: (t.code, t.min_va), _tariff)
        await _add_missing(
            session,
            (Denomination.amount,),
            demo.DENOMINATIONS,
            lambda amount: (amount,),
            lambda amount: Denomination(amount=amount, active=True),
        )
        await _add_missing(
            session,
            (Channel.code,),
            demo.CHANNEL_ADMIN_FEES.items(),
            lambda channel: (channel[0],),
            lambda channel: Channel(code=channel[0], admin_fee=channel[1]),
        )
        if await session.get(StampDutyRule, 1) is None:
            session.add(StampDutyRule(id=1, threshold=demo.STAMP_DUTY_THRESHOLD, amount=demo.STAMP_DUTY_AMOUNT))
        await _add_missing(session, (Meter.number,), demo.METERS, lambda m: (m.number,), _meter)
        await session.flush()

        await _add_missing(
            session,
            (SavedMeter.customer_id, SavedMeter.meter_number),
            demo.SAVED_METERS,
            lambda saved: (saved[0], saved[1]),
            lambda saved: SavedMeter(customer_id=saved[0], meter_number=saved[1], alias=saved[2]),
        )


async def seed_demo_data(db: Database) -> None:
    """Insert whatever part of the demo data set is missing."""
    try:
        await _seed_once(db)
    except IntegrityError:
        # Another process seeded the same rows concurrently (PostgreSQL); the retry sees them.
        await _seed_once(db)
