"""Business rules of the master subgraph: inquiry, quote, saved meters and master-data upkeep.

Functions take the :class:`~setrum_common.db.Database` and the caller (:class:`Viewer`), open
their own transaction, and raise :class:`DomainError` with a client-facing code. Times are
explicit (``at``) so a quote is priced with the tariff in effect at the quote time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.identifiers import luhn_valid

from . import repository as repo
from .identifiers import CustomerNumber, IdentifierKind, InvalidCustomerNumber, parse_customer_number
from .models import Channel, Denomination, Meter, PpjRule, Region, SavedMeter, StampDutyRule, Tariff, utcnow
from .pricing import (
    MAX_INDUSTRY_PPJ_RATE,
    MAX_PPJ_RATE,
    PriceBreakdown,
    PricingError,
    is_industry,
    monthly_kwh_limit,
    ppj_rate_for,
    price_purchase,
    stamp_duty_for,
)

__all__ = [
    "ACTIVE",
    "BLOCKED",
    "Inquiry",
    "MAX_PPN_RATE",
    "MeterInput",
    "PpjRuleInput",
    "Quote",
    "TariffInput",
    "add_denomination",
    "deactivate_denomination",
    "find_meter",
    "inquire",
    "quote",
    "remove_meter",
    "save_meter",
    "set_channel_admin_fee",
    "set_meter_status",
    "set_stamp_duty",
    "upsert_meter",
    "upsert_region",
    "upsert_tariff",
]

ACTIVE = "ACTIVE"
BLOCKED = "BLOCKED"
# UU HPP bounds the VAT rate at 15%; anything above is a typo, not a tax.
MAX_PPN_RATE = Decimal("0.15")
_MAX_AMOUNT = Decimal("1000000000000")  # Rp 1 trillion: far above any token, catches typos
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_ALIAS_MAX = 60


def _bad(message: str) -> DomainError:
    return DomainError(ErrorCode.BAD_USER_INPUT, message)


def _unknown_meter(number: str) -> DomainError:
    return DomainError(ErrorCode.WRONG_CUSTOMER_NUMBER, f"No meter or customer is registered under {number}")


def _parse(raw: str) -> CustomerNumber:
    try:
        return parse_customer_number(raw)
    except InvalidCustomerNumber as error:
        raise DomainError(ErrorCode.WRONG_DIGIT_COUNT, str(error)) from None


def _money(value: Decimal, name: str, *, allow_zero: bool) -> Decimal:
    if not value.is_finite():
        raise _bad(f"{name} must be a number")
    if value < 0 or (value == 0 and not allow_zero):
        raise _bad(f"{name} must be {'zero or ' if allow_zero else ''}positive")
    if value > _MAX_AMOUNT:
        raise _bad(f"{name} is too large")
    if value != value.quantize(Decimal("0.01")):
        raise _bad(f"{name} has more than 2 decimals")
    return value.quantize(Decimal("0.01"))  # stored and shown as rupiah to the cent


def _rate(value: Decimal, name: str, maximum: Decimal) -> Decimal:
    if not value.is_finite() or value < 0 or value > maximum:
        raise _bad(f"{name} must be a fraction between 0 and {maximum} (e.g. 0.024 for 2.4%)")
    if value != value.quantize(Decimal("0.000001")):
        raise _bad(f"{name} has more than 6 decimals")
    return value


def _code(value: str, name: str) -> str:
    code = value.strip().upper()
    if not _CODE.match(code):
        raise _bad(f"{name} must be 1-16 letters, digits or '-' (e.g. R1, R1M, B2)")
    return code


def _band(min_va: int, max_va: int | None) -> tuple[int, int | None]:
    if min_va < 0 or (max_va is not None and max_va < min_va):
        raise _bad("power band must have 0 <= minVa <= maxVa")
    return min_va, max_va


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _facts(db: Database, number: CustomerNumber, at: datetime) -> repo.MeterFacts | None:
    # A plain connection, not an ORM session: one Core select needs no identity map (~0.2 ms less),
    # and, being one statement, no BEGIN/ROLLBACK around it.
    async with db.connection(one_statement=True) as conn:
        kwargs = {"numbers": [number.value]} if number.kind is IdentifierKind.METER_NUMBER else {"idpels": [number.value]}
        found = await repo.load_meter_facts(conn, at=at, **kwargs)
    return found[0] if found else None


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inquiry:
    facts: repo.MeterFacts
    matched_by: IdentifierKind
    check_digit_valid: bool


async def inquire(db: Database, raw: str, *, at: datetime | None = None) -> Inquiry:
    """Look a meter up by meter number or IDPEL (docs/domain.md §Purchase flow, step 1)."""
    number = _parse(raw)
    facts = await _facts(db, number, _utc(at))
    if facts is None:
        raise _unknown_meter(number.value)
    if facts.meter.status == BLOCKED:
        raise DomainError(ErrorCode.CUSTOMER_BLOCKED, f"Meter {facts.meter.number} is blocked: no tokens can be sold")
    return Inquiry(facts, number.kind, luhn_valid(facts.meter.number))


async def find_meter(db: Database, raw: str, *, at: datetime | None = None) -> repo.MeterFacts | None:
    """A meter by number or IDPEL, whatever its status (meters are public facts); None if unknown."""
    return await _facts(db, _parse(raw), _utc(at))


@dataclass(frozen=True, slots=True)
class Quote:
    facts: repo.MeterFacts
    tariff: repo.TariffRecord
    channel: str
    price: PriceBreakdown
    monthly_kwh_limit: Decimal
    quoted_at: datetime


async def quote(
    db: Database,
    meter_number: str,
    denomination: Decimal,
    channel: str | None,
    *,
    default_channel: str,
    at: datetime | None = None,
) -> Quote:
    """The full price breakdown for buying ``denomination`` for a meter through ``channel``.

    The one implementation behind the GraphQL ``quote`` field and master's internal
    ``POST /internal/quote`` (what transactions asks before it sells): one select, no ORM."""
    quoted_at = _utc(at)
    number = _parse(meter_number)
    if not denomination.is_finite() or denomination <= 0:
        raise DomainError(ErrorCode.PRODUCT_UNAVAILABLE, f"Denomination {denomination} is not sold")
    channel_code = (channel or default_channel).strip()
    sane = denomination <= _MAX_AMOUNT and denomination == denomination.quantize(Decimal("0.01"))
    by_number = number.kind is IdentifierKind.METER_NUMBER
    async with db.connection(one_statement=True) as conn:  # one select
        found = await repo.load_quote_facts(
            conn,
            number=number.value if by_number else None,
            idpel=None if by_number else number.value,
            channel=channel_code,
            amount=denomination if sane else None,
            at=quoted_at,
        )
    if found is None:
        raise _unknown_meter(number.value)
    facts = found.facts
    meter, tariff = facts.meter, facts.tariff
    if meter.status == BLOCKED:
        raise DomainError(ErrorCode.CUSTOMER_BLOCKED, f"Meter {meter.number} is blocked: no tokens can be sold")
    if tariff is None:
        raise DomainError(ErrorCode.PRODUCT_UNAVAILABLE, f"No tariff {meter.tariff_code}/{meter.power_va}VA is in effect")
    if found.admin_fee is None:
        raise _bad(f"Unknown sales channel {channel_code!r}")
    if not found.denomination_active:
        raise DomainError(ErrorCode.PRODUCT_UNAVAILABLE, f"Denomination {denomination} is not sold")
    nominal = denomination.quantize(Decimal("0.01"))  # the stored amount (2 decimals) the join matched
    stamp_duty = (
        stamp_duty_for(nominal, threshold=found.stamp_threshold, amount=found.stamp_amount)
        if found.stamp_threshold is not None and found.stamp_amount is not None
        else Decimal("0")
    )
    try:
        price = price_purchase(
            nominal=nominal,
            tariff_rate=tariff.rate,
            ppj_rate=ppj_rate_for(found.ppj_rules, meter.tariff_code, meter.power_va),
            ppn_rate=tariff.ppn_rate,
            admin_fee=found.admin_fee,
            stamp_duty=stamp_duty,
            instalment=meter.instalment,
        )
    except PricingError as error:
        raise DomainError(ErrorCode.PRODUCT_UNAVAILABLE, f"Denomination {denomination} cannot be sold: {error}") from None
    return Quote(facts, tariff, channel_code, price, monthly_kwh_limit(meter.power_va), quoted_at)


# --- saved meters ------------------------------------------------------------------------------


def _customer(viewer: Viewer) -> str:
    viewer.require_authenticated()
    if viewer.customer_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only a signed-in customer can keep saved meters")
    return viewer.customer_id


async def save_meter(db: Database, viewer: Viewer, raw: str, alias: str | None) -> SavedMeter:
    """Bookmark a meter (by number or IDPEL) for the viewer; saving again updates the alias."""
    customer_id = _customer(viewer)
    number = _parse(raw)
    clean_alias = (alias or "").strip() or None
    if clean_alias is not None and len(clean_alias) > _ALIAS_MAX:
        raise _bad(f"alias is longer than {_ALIAS_MAX} characters")
    facts = await _facts(db, number, utcnow())
    if facts is None:
        raise _unknown_meter(number.value)
    async with db.transaction() as session:
        return await repo.add_saved_meter(session, customer_id, facts.meter.number, clean_alias)


async def remove_meter(db: Database, viewer: Viewer, raw: str) -> bool:
    """Forget a saved meter; False when it was not saved (removing twice is harmless)."""
    customer_id = _customer(viewer)
    number = _parse(raw)
    meter_number = number.value
    if number.kind is IdentifierKind.IDPEL:
        facts = await _facts(db, number, utcnow())
        if facts is None:
            return False
        meter_number = facts.meter.number
    async with db.transaction() as session:
        return await repo.remove_saved_meter(session, customer_id, meter_number)


# --- master-data upkeep (ADMIN or SERVICE) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class TariffInput:
    code: str
    rate: Decimal
    min_va: int = 0
    max_va: int | None = None
    ppn_rate: Decimal = Decimal("0")
    description: str = ""
    effective_from: datetime | None = None


async def upsert_tariff(db: Database, viewer: Viewer, data: TariffInput) -> Tariff:
    """Start a new version of a tariff; the versions it supersedes end where it begins."""
    viewer.require_admin()
    code = _code(data.code, "code")
    min_va, max_va = _band(data.min_va, data.max_va)
    rate = _money(data.rate, "rate", allow_zero=False)
    ppn_rate = _rate(data.ppn_rate, "ppnRate", MAX_PPN_RATE)
    start = _utc(data.effective_from)
    try:
        async with db.transaction() as session:
            current = await repo.open_tariffs_overlapping(session, code, min_va, max_va, after=start)
            later = [t for t in current if t.effective_from >= start]
            if later:
                raise _bad(
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
        raise _bad(f"a version of {code} starting at {start.isoformat()} was just created") from None


@dataclass(frozen=True, slots=True)
class PpjRuleInput:
    rate: Decimal
    tariff_classes: Sequence[str] = ()
    min_va: int = 0
    max_va: int | None = None


async def upsert_region(db: Database, viewer: Viewer, code: str, name: str, rules: Sequence[PpjRuleInput]) -> Region:
    """Create or rename a region and replace its PPJ rules as a whole."""
    viewer.require_admin()
    region_code = _code(code, "code")
    clean_name = name.strip()
    if not clean_name or len(clean_name) > 120:
        raise _bad("name must be 1-120 characters")
    rows: list[PpjRule] = []
    for i, rule in enumerate(rules):
        classes = tuple(dict.fromkeys(_code(c, f"ppjRules[{i}].tariffClasses") for c in rule.tariff_classes))
        rate = _rate(rule.rate, f"ppjRules[{i}].rate", MAX_PPJ_RATE)
        if classes and all(is_industry(c) for c in classes) and rate > MAX_INDUSTRY_PPJ_RATE:
            raise _bad(f"ppjRules[{i}].rate: PPJ on industry is at most {MAX_INDUSTRY_PPJ_RATE}")
        if any(is_industry(c) for c in classes) and rate > MAX_INDUSTRY_PPJ_RATE:
            raise _bad(f"ppjRules[{i}]: put industry classes in their own rule (at most {MAX_INDUSTRY_PPJ_RATE})")
        min_va, max_va = _band(rule.min_va, rule.max_va)
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


def _denomination_amount(amount: Decimal) -> Decimal:
    value = _money(amount, "amount", allow_zero=False)
    if value != value.to_integral_value():
        raise _bad("a denomination is a whole number of rupiah")
    return value


async def add_denomination(db: Database, viewer: Viewer, amount: Decimal) -> Denomination:
    """Offer a denomination (re-activating it if it was withdrawn)."""
    viewer.require_admin()
    value = _denomination_amount(amount)
    async with db.transaction() as session:
        row = await repo.get_denomination(session, value)
        if row is None:
            row = Denomination(amount=value, active=True)
            session.add(row)
        row.active = True
        await session.flush()
        return row


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
        raise _bad("channel must be 1-40 lower-case letters, digits, '-' or '_'")
    fee = _money(admin_fee, "adminFee", allow_zero=True)
    async with db.transaction() as session:
        row = await repo.get_channel(session, code)
        if row is None:
            row = Channel(code=code, admin_fee=fee)
            session.add(row)
        row.admin_fee = fee
        await session.flush()
        return row


async def set_stamp_duty(db: Database, viewer: Viewer, threshold: Decimal, amount: Decimal) -> StampDutyRule:
    viewer.require_admin()
    threshold = _money(threshold, "threshold", allow_zero=True)
    amount = _money(amount, "amount", allow_zero=True)
    async with db.transaction() as session:
        row = await repo.get_stamp_duty_rule(session)
        if row is None:
            row = StampDutyRule(id=1, threshold=threshold, amount=amount)
            session.add(row)
        row.threshold, row.amount = threshold, amount
        await session.flush()
        return row


async def set_meter_status(db: Database, viewer: Viewer, raw: str, status: str) -> str:
    """Block or unblock a meter; returns its number."""
    viewer.require_admin()
    if status not in (ACTIVE, BLOCKED):
        raise _bad("status must be ACTIVE or BLOCKED")
    number = _parse(raw)
    async with db.transaction() as session:
        meter_number = number.value
        if number.kind is IdentifierKind.IDPEL:
            found = await repo.load_meter_facts(session, idpels=[number.value], at=utcnow())
            if not found:
                raise _unknown_meter(number.value)
            meter_number = found[0].meter.number
        meter = await repo.lock_meter(session, meter_number)
        if meter is None:
            raise _unknown_meter(number.value)
        meter.status = status
        await session.flush()
        return meter.number


@dataclass(frozen=True, slots=True)
class MeterInput:
    number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    region_code: str
    instalment: Decimal = Decimal("0")


async def upsert_meter(db: Database, viewer: Viewer, data: MeterInput) -> str:
    """Register a meter or correct its record (status is changed by :func:`set_meter_status`)."""
    viewer.require_admin()
    number, idpel = _parse(data.number), _parse(data.idpel)
    if number.kind is not IdentifierKind.METER_NUMBER:
        raise DomainError(ErrorCode.WRONG_DIGIT_COUNT, "number must be an 11-digit meter number")
    if idpel.kind is not IdentifierKind.IDPEL:
        raise DomainError(ErrorCode.WRONG_DIGIT_COUNT, "idpel must be a 12-digit customer id")
    holder = data.holder_name.strip()
    if not holder or len(holder) > 120:
        raise _bad("holderName must be 1-120 characters")
    tariff_code = _code(data.tariff_code, "tariffCode")
    if data.power_va <= 0:
        raise _bad("powerVa must be positive")
    region_code = _code(data.region_code, "regionCode")
    instalment = _money(data.instalment, "instalment", allow_zero=True)
    try:
        async with db.transaction() as session:
            if await repo.get_region(session, region_code) is None:
                raise _bad(f"unknown region {region_code}")
            if not [
                t
                for t in await repo.list_tariffs(session, at=utcnow())
                if t.code == tariff_code and t.min_va <= data.power_va and (t.max_va is None or data.power_va <= t.max_va)
            ]:
                raise _bad(f"no tariff {tariff_code} for {data.power_va} VA is in effect")
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
            await session.flush()
            return meter.number
    except IntegrityError:
        raise _bad(f"IDPEL {idpel.value} already belongs to another meter") from None
