"""Database access for the master subgraph: async functions over an ``AsyncSession``.

No business rules and no GraphQL here; callers own the transaction. Batch readers take many
keys and issue one SELECT, so DataLoaders can resolve many entities without N+1 queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, delete, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Channel, Denomination, Meter, PpjRule, Region, SavedMeter, StampDutyRule, Tariff

__all__ = [
    "MeterFacts",
    "add_saved_meter",
    "close_open_tariffs",
    "get_channel",
    "get_denomination",
    "get_meter",
    "get_region",
    "get_stamp_duty_rule",
    "list_channels",
    "list_denominations",
    "list_regions",
    "list_tariffs",
    "load_meter_facts",
    "load_ppj_rules",
    "load_sale_terms",
    "load_regions",
    "load_saved_meters",
    "lock_meter",
    "open_tariffs_overlapping",
    "remove_saved_meter",
    "replace_ppj_rules",
]


@dataclass(frozen=True, slots=True)
class MeterFacts:
    """A meter with the tariff version in effect (None if none is) and its region."""

    meter: Meter
    tariff: Tariff | None
    region: Region


def _in_effect(at: datetime) -> object:
    return and_(Tariff.effective_from <= at, or_(Tariff.effective_to.is_(None), Tariff.effective_to > at))


def _band_contains(va: object) -> object:
    return and_(Tariff.min_va <= va, or_(Tariff.max_va.is_(None), Tariff.max_va >= va))


async def load_meter_facts(
    session: AsyncSession, *, numbers: Iterable[str] = (), idpels: Iterable[str] = (), at: datetime
) -> list[MeterFacts]:
    """Meters by number and/or IDPEL with tariff and region, in ONE select (tariff joined by band and date)."""
    numbers, idpels = list(numbers), list(idpels)
    if not numbers and not idpels:
        return []
    conditions = []
    if numbers:
        conditions.append(Meter.number.in_(numbers))
    if idpels:
        conditions.append(Meter.idpel.in_(idpels))
    stmt = (
        select(Meter, Tariff, Region)
        .join(Region, Region.code == Meter.region_code)
        .outerjoin(
            Tariff,
            and_(Tariff.code == Meter.tariff_code, _band_contains(Meter.power_va), _in_effect(at)),
        )
        .where(or_(*conditions))
        .order_by(Meter.number, Tariff.effective_from.desc())
    )
    found: dict[str, MeterFacts] = {}
    for meter, tariff, region in await session.execute(stmt):
        # Overlapping versions should not exist; if they do, the latest start wins.
        found.setdefault(meter.number, MeterFacts(meter, tariff, region))
    return list(found.values())


async def get_meter(session: AsyncSession, number: str) -> Meter | None:
    return await session.get(Meter, number)


async def lock_meter(session: AsyncSession, number: str) -> Meter | None:
    """The meter row, locked for update (PostgreSQL; SQLite's write transaction already serialises)."""
    result = await session.execute(select(Meter).where(Meter.number == number).with_for_update())
    return result.scalar_one_or_none()


async def list_tariffs(session: AsyncSession, *, at: datetime | None) -> Sequence[Tariff]:
    """Tariff versions in effect at ``at``, or every version when ``at`` is None."""
    stmt = select(Tariff).order_by(Tariff.code, Tariff.min_va, Tariff.effective_from)
    if at is not None:
        stmt = stmt.where(_in_effect(at))
    return (await session.execute(stmt)).scalars().all()


async def open_tariffs_overlapping(
    session: AsyncSession, code: str, min_va: int, max_va: int | None, *, after: datetime
) -> Sequence[Tariff]:
    """Versions of ``code`` whose band overlaps ``[min_va, max_va]`` and that are still open at ``after``."""
    stmt = (
        select(Tariff)
        .where(
            Tariff.code == code,
            or_(Tariff.max_va.is_(None), Tariff.max_va >= min_va),
            *(() if max_va is None else (Tariff.min_va <= max_va,)),
            or_(Tariff.effective_to.is_(None), Tariff.effective_to > after),
        )
        .with_for_update()
    )
    return (await session.execute(stmt)).scalars().all()


async def close_open_tariffs(session: AsyncSession, tariffs: Iterable[Tariff], at: datetime) -> None:
    for tariff in tariffs:
        tariff.effective_to = at
    await session.flush()


async def list_regions(session: AsyncSession) -> Sequence[Region]:
    return (await session.execute(select(Region).order_by(Region.code))).scalars().all()


async def get_region(session: AsyncSession, code: str) -> Region | None:
    return await session.get(Region, code)


async def load_regions(session: AsyncSession, codes: Iterable[str]) -> dict[str, Region]:
    result = await session.execute(select(Region).where(Region.code.in_(list(codes))))
    return {r.code: r for r in result.scalars()}


async def load_ppj_rules(session: AsyncSession, region_codes: Iterable[str]) -> dict[str, list[PpjRule]]:
    result = await session.execute(
        select(PpjRule).where(PpjRule.region_code.in_(list(region_codes))).order_by(PpjRule.position, PpjRule.id)
    )
    rules: dict[str, list[PpjRule]] = defaultdict(list)
    for rule in result.scalars():
        rules[rule.region_code].append(rule)
    return rules


async def replace_ppj_rules(session: AsyncSession, region_code: str, rules: Sequence[PpjRule]) -> None:
    await session.execute(delete(PpjRule).where(PpjRule.region_code == region_code))
    for position, rule in enumerate(rules):
        rule.region_code = region_code
        rule.position = position
        session.add(rule)
    await session.flush()


async def list_denominations(session: AsyncSession, *, include_inactive: bool) -> Sequence[Denomination]:
    stmt = select(Denomination).order_by(Denomination.amount)
    if not include_inactive:
        stmt = stmt.where(Denomination.active.is_(True))
    return (await session.execute(stmt)).scalars().all()


async def get_denomination(session: AsyncSession, amount: Decimal) -> Denomination | None:
    return await session.get(Denomination, amount)


async def list_channels(session: AsyncSession) -> Sequence[Channel]:
    return (await session.execute(select(Channel).order_by(Channel.code))).scalars().all()


async def get_channel(session: AsyncSession, code: str) -> Channel | None:
    return await session.get(Channel, code)


async def get_stamp_duty_rule(session: AsyncSession) -> StampDutyRule | None:
    return await session.get(StampDutyRule, 1)


async def load_sale_terms(
    session: AsyncSession, channel_code: str, amount: Decimal | None
) -> tuple[Channel, Denomination | None, StampDutyRule | None] | None:
    """The channel, the denomination ``amount`` (None: do not look) and the stamp duty rule, in ONE
    select (a quote used three); None when the channel is unknown."""
    denomination_on = Denomination.amount == amount if amount is not None else false()
    stmt = (
        select(Channel, Denomination, StampDutyRule)
        .select_from(Channel)
        .outerjoin(Denomination, denomination_on)
        .outerjoin(StampDutyRule, StampDutyRule.id == 1)
        .where(Channel.code == channel_code)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1], row[2])


async def load_saved_meters(session: AsyncSession, customer_ids: Iterable[str]) -> dict[str, list[SavedMeter]]:
    result = await session.execute(
        select(SavedMeter)
        .where(SavedMeter.customer_id.in_(list(customer_ids)))
        .order_by(SavedMeter.saved_at, SavedMeter.id)
    )
    saved: dict[str, list[SavedMeter]] = defaultdict(list)
    for row in result.scalars():
        saved[row.customer_id].append(row)
    return saved


async def add_saved_meter(session: AsyncSession, customer_id: str, meter_number: str, alias: str | None) -> SavedMeter:
    """Insert or update the (customer, meter) bookmark; safe against a concurrent insert of the same pair."""
    stmt = select(SavedMeter).where(SavedMeter.customer_id == customer_id, SavedMeter.meter_number == meter_number)
    existing = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if existing is None:
        row = SavedMeter(customer_id=customer_id, meter_number=meter_number, alias=alias)
        try:
            async with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            # Someone saved the same pair between our SELECT and INSERT: update theirs instead.
            existing = (await session.execute(stmt)).scalar_one()
    if existing.alias != alias:
        await session.execute(update(SavedMeter).where(SavedMeter.id == existing.id).values(alias=alias))
        existing.alias = alias
    return existing


async def remove_saved_meter(session: AsyncSession, customer_id: str, meter_number: str) -> bool:
    result = await session.execute(
        delete(SavedMeter).where(SavedMeter.customer_id == customer_id, SavedMeter.meter_number == meter_number)
    )
    return bool(result.rowcount)
