"""Master-data upkeep by an admin: tariffs, regions and their PPJ rules, denominations, channel
admin fees, the stamp duty rule and meters."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from setrum_common.auth import Viewer
from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.money import MAX_DENOMINATION, whole_rupiah
from setrum_common.pricing import MAX_INDUSTRY_PPJ_RATE, MAX_PPJ_RATE, is_industry

from .. import repository as repo
from ..identifiers import IdentifierKind
from ..models import Channel, Denomination, Meter, PpjRule, Region, StampDutyRule, Tariff
from .inputs import (
    ACTIVE,
    BLOCKED,
    at_or_now,
    bad_input,
    checked_band,
    checked_code,
    checked_money,
    checked_rate,
    parse_number,
    unknown_meter,
)

__all__ = [
    "MAX_PPN_RATE",
    "MeterFields",
    "PpjRuleFields",
    "TariffFields",
    "add_denomination",
    "deactivate_denomination",
    "set_channel_admin_fee",
    "set_meter_status",
    "set_stamp_duty",
    "upsert_meter",
    "upsert_region",
    "upsert_tariff",
]

# UU HPP bounds the VAT rate at 15%; anything above is a typo, not a tax.
MAX_PPN_RATE = Decimal("0.15")
_Row = TypeVar("_Row", Denomination, Channel, StampDutyRule)
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class TariffFields:
    code: str
    rate: Decimal
    min_va: int = 0
    max_va: int | None = None
    ppn_rate: Decimal = Decimal("0")
    description: str = ""
    effective_from: datetime | None = None


async def upsert_tariff(db: Database, viewer: Viewer, data: TariffFields) -> Tariff:
    """Start a new version of a tariff; the versions it supersedes end where it begins."""
    viewer.require_admin()
    code = checked_code(data.code, "code")
    min_va, max_va = checked_band(data.min_va, data.max_va)
    rate = checked_money(data.rate, "rate", allow_zero=False)
    ppn_rate = checked_rate(data.ppn_rate, "ppnRate", MAX_PPN_RATE)
    start = at_or_now(data.effective_from)
    try:
        async with db.transaction() as session:
            current = await repo.open_tariffs_overlapping(session, code, min_va, max_va, after=start)
            later = [t for t in current if t.effective_from >= start]
            if later:
                raise bad_input(
                    f"a version of {code} starting {later[0].effective_from.isoformat()} exists: "
                    "effectiveFrom must be after the current version's start"
                )
            await repo.close_open_tariffs(session, current, start)
            tariff = Tariff(
                code=code,
                description=data.description.strip()[:200],
                min_va=min_va,
                max_va=max_va,
                rate=rate,
                ppn_rate=ppn_rate,
                effective_from=start,
                effective_to=None,
            )
            session.add(tariff)
            await session.flush()
            return tariff
    except IntegrityError:
        raise bad_input(f"a version of {code} starting at {start.isoformat()} was just created") from None


@dataclass(frozen=True, slots=True)
class PpjRuleFields:
    rate: Decimal
    tariff_classes: Sequence[str] = ()
    min_va: int = 0
    max_va: int | None = None


async def upsert_region(db: Database, viewer: Viewer, code: str, name: str, rules: Sequence[PpjRuleFields]) -> Region:
    """Create or rename a region and replace its PPJ rules as a whole."""
    viewer.require_admin()
    region_code = checked_code(code, "code")
    clean_name = name.strip()
    if not clean_name or len(clean_name) > 120:
        raise bad_input("name must be 1-120 characters")
    rows: list[PpjRule] = []
    for i, rule in enumerate(rules):
        classes = tuple(dict.fromkeys(checked_code(c, f"ppjRules[{i}].tariffClasses") for c in rule.tariff_classes))
        rate = checked_rate(rule.rate, f"ppjRules[{i}].rate", MAX_PPJ_RATE)
        if classes and all(is_industry(c) for c in classes) and rate > MAX_INDUSTRY_PPJ_RATE:
            raise bad_input(f"ppjRules[{i}].rate: PPJ on industry is at most {MAX_INDUSTRY_PPJ_RATE}")
        if any(is_industry(c) for c in classes) and rate > MAX_INDUSTRY_PPJ_RATE:
            raise bad_input(f"ppjRules[{i}]: put industry classes in their own rule (at most {MAX_INDUSTRY_PPJ_RATE})")
        min_va, max_va = checked_band(rule.min_va, rule.max_va)
        rows.append(PpjRule(rate=rate, tariff_classes=",".join(classes), min_va=min_va, max_va=max_va))
    async with db.transaction() as session:
        region = await repo.get_region(session, region_code)
        if region is None:
            region = Region(code=region_code, name=clean_name)
            session.add(region)
        else:
            region.name = clean_name
        await session.flush()
        await repo.replace_ppj_rules(session, region_code, rows)
        return region


async def _set(session: AsyncSession, found: _Row | None, make: Callable[[], _Row], **values: object) -> _Row:
    """The row found, or a new one from ``make()``, with ``values`` set on it (one upkeep change)."""
    row = make() if found is None else found
    if found is None:
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    await session.flush()
    return row


def _denomination_amount(amount: Decimal) -> Decimal:
    return whole_rupiah(amount, "amount", maximum=MAX_DENOMINATION)


async def add_denomination(db: Database, viewer: Viewer, amount: Decimal) -> Denomination:
    """Offer a denomination (re-activating it if it was withdrawn)."""
    viewer.require_admin()
    value = _denomination_amount(amount)
    async with db.transaction() as session:
        found = await repo.get_denomination(session, value)
        return await _set(session, found, lambda: Denomination(amount=value), active=True)


async def deactivate_denomination(db: Database, viewer: Viewer, amount: Decimal) -> Denomination:
    viewer.require_admin()
    value = _denomination_amount(amount)
    async with db.transaction() as session:
        row = await repo.get_denomination(session, value)
        if row is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"Denomination {amount} does not exist")
        row.active = False
        await session.flush()
        return row


async def set_channel_admin_fee(db: Database, viewer: Viewer, channel: str, admin_fee: Decimal) -> Channel:
    """Set (or create) a sales channel's admin fee."""
    viewer.require_admin()
    code = channel.strip()
    if not _CHANNEL.match(code):
        raise bad_input("channel must be 1-40 lower-case letters, digits, '-' or '_'")
    fee = whole_rupiah(admin_fee, "adminFee", maximum=MAX_DENOMINATION, allow_zero=True)
    async with db.transaction() as session:
        return await _set(session, await repo.get_channel(session, code), lambda: Channel(code=code), admin_fee=fee)


async def set_stamp_duty(db: Database, viewer: Viewer, threshold: Decimal, amount: Decimal) -> StampDutyRule:
    viewer.require_admin()
    threshold = whole_rupiah(threshold, "threshold", maximum=MAX_DENOMINATION, allow_zero=True)
    amount = whole_rupiah(amount, "amount", maximum=MAX_DENOMINATION, allow_zero=True)
    async with db.transaction() as session:
        found = await repo.get_stamp_duty_rule(session)
        return await _set(session, found, lambda: StampDutyRule(id=1), threshold=threshold, amount=amount)


async def set_meter_status(db: Database, viewer: Viewer, raw: str, status: str) -> str:
    """Block or unblock a meter; returns its number."""
    viewer.require_admin()
    if status not in (ACTIVE, BLOCKED):
        raise bad_input("status must be ACTIVE or BLOCKED")
    number = parse_number(raw)
    async with db.transaction() as session:
        meter_number = number.value
        if number.kind is IdentifierKind.IDPEL:
            found = await repo.load_meter_facts(session, idpels=[number.value], at=utc_now())
            if not found:
                raise unknown_meter(number)
            meter_number = found[0].meter.number
        meter = await repo.lock_meter(session, meter_number)
        if meter is None:
            raise unknown_meter(number)
        meter.status = status
        await session.flush()
        return meter.number


@dataclass(frozen=True, slots=True)
class MeterFields:
    number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    region_code: str
    instalment: Decimal = Decimal("0")
    instalment_debt: Decimal = Decimal("0")


async def upsert_meter(db: Database, viewer: Viewer, data: MeterFields) -> str:
    """Register a meter or correct its record (status is changed by :func:`set_meter_status`)."""
    viewer.require_admin()
    number, idpel = parse_number(data.number), parse_number(data.idpel)
    if number.kind is not IdentifierKind.METER_NUMBER:
        raise DomainError(ErrorCode.WRONG_DIGIT_COUNT, "number must be an 11-digit meter number")
    if idpel.kind is not IdentifierKind.IDPEL:
        raise DomainError(ErrorCode.WRONG_DIGIT_COUNT, "idpel must be a 12-digit customer id")
    holder = data.holder_name.strip()
    if not holder or len(holder) > 120:
        raise bad_input("holderName must be 1-120 characters")
    tariff_code = checked_code(data.tariff_code, "tariffCode")
    if data.power_va <= 0:
        raise bad_input("powerVa must be positive")
    region_code = checked_code(data.region_code, "regionCode")
    instalment = whole_rupiah(data.instalment, "instalment", maximum=MAX_DENOMINATION, allow_zero=True)
    instalment_debt = whole_rupiah(data.instalment_debt, "instalmentDebt", maximum=MAX_DENOMINATION, allow_zero=True)
    try:
        async with db.transaction() as session:
            if await repo.get_region(session, region_code) is None:
                raise bad_input(f"unknown region {region_code}")
            if not [
                t
                for t in await repo.list_tariffs(session, at=utc_now())
                if t.code == tariff_code
                and t.min_va <= data.power_va
                and (t.max_va is None or data.power_va <= t.max_va)
            ]:
                raise bad_input(f"no tariff {tariff_code} for {data.power_va} VA is in effect")
            meter = await repo.lock_meter(session, number.value)
            if meter is None:
                meter = Meter(number=number.value, status=ACTIVE)
                session.add(meter)
            meter.idpel = idpel.value
            meter.holder_name = holder
            meter.tariff_code = tariff_code
            meter.power_va = data.power_va
            meter.region_code = region_code
            meter.instalment = instalment
            meter.instalment_debt = instalment_debt
            await session.flush()
            return meter.number
    except IntegrityError:
        raise bad_input(f"IDPEL {idpel.value} already belongs to another meter") from None
