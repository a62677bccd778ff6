"""Database access for the master subgraph: async functions over an ``AsyncSession``.

No business rules and no GraphQL here; callers own the transaction. The hot reads (meter facts,
quote facts) are Core statements built once, return plain records and also accept a bare
``AsyncConnection``. Batch readers take many
keys and issue one SELECT, so DataLoaders can resolve many entities without N+1 queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from setrum_common.db import rowcount

from .models import (
    Channel,
    Denomination,
    Meter,
    PpjRule,
    Region,
    SavedMeter,
    StampDutyRule,
    Tariff,
    split_tariff_classes,
)

__all__ = [
    "MeterFacts",
    "MeterRecord",
    "PpjRuleRecord",
    "QuoteFacts",
    "RegionRecord",
    "TariffRecord",
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
    "read_quote_facts",
    "load_regions",
    "load_saved_meters",
    "lock_meter",
    "open_tariffs_overlapping",
    "remove_saved_meter",
    "replace_ppj_rules",
]


class _Executor(Protocol):
    """An ``AsyncSession`` or an ``AsyncConnection``: the readers below only need ``execute``."""

    async def execute(self, statement: Any, parameters: Any = ..., /) -> Any: ...


# --- plain read records -------------------------------------------------------------------------
# The meter and quote reads load plain rows (Core), not ORM entities: nothing is written back, so
# identity maps, instance state and attribute instrumentation bought nothing and cost about half of
# master's CPU per quote. The records carry the same attribute names as the ORM models, so code
# that reads a meter, tariff or region accepts either.


@dataclass(frozen=True, slots=True)
class MeterRecord:
    number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    region_code: str
    status: str
    instalment: Decimal
    instalment_debt: Decimal


@dataclass(frozen=True, slots=True)
class TariffRecord:
    id: int
    code: str
    description: str
    min_va: int
    max_va: int | None
    rate: Decimal
    ppn_rate: Decimal
    effective_from: datetime
    effective_to: datetime | None


@dataclass(frozen=True, slots=True)
class RegionRecord:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PpjRuleRecord:
    id: int
    rate: Decimal
    tariff_classes: str
    min_va: int
    max_va: int | None
    position: int

    @property
    def classes(self) -> tuple[str, ...]:
        return split_tariff_classes(self.tariff_classes)


@dataclass(frozen=True, slots=True)
class MeterFacts:
    """A meter with the tariff version in effect (None if none is) and its region."""

    meter: MeterRecord
    tariff: TariffRecord | None
    region: RegionRecord


@dataclass(frozen=True, slots=True)
class QuoteFacts:
    """Everything a quote reads, from ONE select: the meter's facts, the sale terms (None where the
    channel, denomination or stamp-duty rule does not exist) and the region's PPJ rules in order."""

    facts: MeterFacts
    admin_fee: Decimal | None  # None: unknown channel
    denomination_active: bool | None  # None: no such denomination
    stamp_threshold: Decimal | None  # None: no stamp-duty rule
    stamp_amount: Decimal | None
    ppj_rules: tuple[PpjRuleRecord, ...]


def _in_effect(at: Any) -> Any:
    return and_(Tariff.effective_from <= at, or_(Tariff.effective_to.is_(None), Tariff.effective_to > at))


def _band_contains(va: Any) -> Any:
    return and_(Tariff.min_va <= va, or_(Tariff.max_va.is_(None), Tariff.max_va >= va))


# Statements are built ONCE and executed with parameters: building a select (ORM attribute
# operators, and_/or_) and generating its cache key per call cost more CPU than running it.
_M, _T, _R = Meter.__table__.c, Tariff.__table__.c, Region.__table__.c
_C, _D, _S, _P = Channel.__table__.c, Denomination.__table__.c, StampDutyRule.__table__.c, PpjRule.__table__.c
_AT = bindparam("at", type_=Tariff.__table__.c.effective_from.type)
_METER_COLUMNS = (
    _M.number, _M.idpel, _M.holder_name, _M.tariff_code, _M.power_va, _M.region_code, _M.status, _M.instalment,
    _M.instalment_debt,
)  # fmt: skip
_TARIFF_COLUMNS = (
    _T.id,
    _T.code,
    _T.description,
    _T.min_va,
    _T.max_va,
    _T.rate,
    _T.ppn_rate,
    _T.effective_from,
    _T.effective_to,
)
_N_METER, _N_TARIFF = len(_METER_COLUMNS), len(_TARIFF_COLUMNS)
_FACTS_FROM = Meter.__table__.join(Region.__table__, _R.code == _M.region_code).outerjoin(
    Tariff.__table__,
    and_(_T.code == _M.tariff_code, _band_contains(_M.power_va), _in_effect(_AT)),
)


def _facts_select(where: Any) -> Any:
    return (
        select(*_METER_COLUMNS, *_TARIFF_COLUMNS, _R.code, _R.name)
        .select_from(_FACTS_FROM)
        .where(where)
        .order_by(_M.number, _T.effective_from.desc())
    )


_FACTS_BY_NUMBERS = _facts_select(_M.number.in_(bindparam("numbers", expanding=True)))
_FACTS_BY_IDPELS = _facts_select(_M.idpel.in_(bindparam("idpels", expanding=True)))
_FACTS_BY_EITHER = _facts_select(
    or_(_M.number.in_(bindparam("numbers", expanding=True)), _M.idpel.in_(bindparam("idpels", expanding=True)))
)


def _meter_facts(row: Row[Any]) -> MeterFacts:
    meter = MeterRecord(*row[:_N_METER])
    tariff = None if row[_N_METER] is None else TariffRecord(*row[_N_METER : _N_METER + _N_TARIFF])
    at = _N_METER + _N_TARIFF
    return MeterFacts(meter, tariff, RegionRecord(row[at], row[at + 1]))


async def load_meter_facts(
    session: _Executor, *, numbers: Iterable[str] = (), idpels: Iterable[str] = (), at: datetime
) -> list[MeterFacts]:
    """Meters by number and/or IDPEL with tariff and region, in ONE select (tariff joined by band and date)."""
    numbers, idpels = list(numbers), list(idpels)
    if numbers and idpels:
        stmt, params = _FACTS_BY_EITHER, {"numbers": numbers, "idpels": idpels, "at": at}
    elif numbers:
        stmt, params = _FACTS_BY_NUMBERS, {"numbers": numbers, "at": at}
    elif idpels:
        stmt, params = _FACTS_BY_IDPELS, {"idpels": idpels, "at": at}
    else:
        return []
    found: dict[str, MeterFacts] = {}
    for row in await session.execute(stmt, params):
        # Overlapping versions should not exist; if they do, the latest start wins.
        if row[0] not in found:
            found[row[0]] = _meter_facts(row)
    return list(found.values())


def _quote_select(key: Any) -> Any:
    """The meter (by ``key``) with tariff and region, plus the channel ``:channel``, denomination
    ``:amount``, the stamp-duty rule and the region's PPJ rules, all LEFT JOINed: one row per
    (tariff version, PPJ rule), no row at all when the meter is unknown."""
    return (
        select(
            *_METER_COLUMNS,
            *_TARIFF_COLUMNS,
            _R.code,
            _R.name,
            _C.admin_fee,
            _D.active,
            _S.threshold,
            _S.amount,
            _P.id,
            _P.rate,
            _P.tariff_classes,
            _P.min_va,
            _P.max_va,
            _P.position,
        )
        .select_from(
            _FACTS_FROM.outerjoin(Channel.__table__, _C.code == bindparam("channel", type_=_C.code.type))
            .outerjoin(Denomination.__table__, _D.amount == bindparam("amount", type_=_D.amount.type))
            .outerjoin(StampDutyRule.__table__, _S.id == 1)
            .outerjoin(PpjRule.__table__, _P.region_code == _M.region_code)
        )
        .where(key == bindparam("key", type_=key.type))
        .order_by(_T.effective_from.desc(), _P.position, _P.id)
    )


_QUOTE_BY_NUMBER = _quote_select(_M.number)
_QUOTE_BY_IDPEL = _quote_select(_M.idpel)
_SALE_AT = _N_METER + _N_TARIFF + 2  # first column after the region


def read_quote_facts(
    conn: Connection, number: str | None, idpel: str | None, channel: str, amount: Decimal | None, at: datetime
) -> QuoteFacts | None:
    """What a quote reads, in ONE select; None when no meter has that number (or IDPEL); ``amount``
    None looks no denomination up (as if it did not exist). For :meth:`Database.run`: checkout, the
    select and check-in in one greenlet (the quote is master's hot path, asked before every purchase)."""
    stmt, params = _quote_query(number, idpel, channel, amount, at)
    return _quote_facts(conn.execute(stmt, params).all())


def _quote_query(
    number: str | None, idpel: str | None, channel: str, amount: Decimal | None, at: datetime
) -> tuple[Any, dict[str, Any]]:
    if (number is None) == (idpel is None):
        raise ValueError("give exactly one of number and idpel")
    stmt = _QUOTE_BY_NUMBER if number is not None else _QUOTE_BY_IDPEL
    return stmt, {"key": number or idpel, "channel": channel, "amount": amount, "at": at}


def _quote_facts(rows: Sequence[Row[Any]]) -> QuoteFacts | None:
    if not rows:
        return None
    first = rows[0]
    tariff_id = first[_N_METER]
    rules: list[PpjRuleRecord] = []
    seen: set[int] = set()
    s = _SALE_AT
    for row in rows:
        # Overlapping tariff versions should not exist; if they do, the latest start wins (row order).
        if row[_N_METER] != tariff_id or row[s + 4] is None or row[s + 4] in seen:
            continue
        seen.add(row[s + 4])
        rules.append(PpjRuleRecord(*row[s + 4 : s + 10]))
    return QuoteFacts(
        facts=_meter_facts(first),
        admin_fee=first[s],
        denomination_active=None if first[s + 1] is None else bool(first[s + 1]),
        stamp_threshold=first[s + 2],
        stamp_amount=first[s + 3],
        ppj_rules=tuple(rules),
    )


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
    return bool(rowcount(result))
