"""The operator's view (admin only): sales by day and status, the PENDING and review queues, the
management tokens issued, and a day's settlement against the biller.

Days are Asia/Jakarta calendar days, like the monthly cap. The review queue holds PENDING purchases
older than :data:`REVIEW_AFTER`: the automatic re-asking (on read, and by the settlement worker)
has not settled them, so their money is held until an operator looks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from setrum_common.auth import Viewer
from setrum_common.clock import JAKARTA, utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from ..clients import BillerError
from ..models import ManagementTokenRecord, Purchase, PurchaseStatus
from .dependencies import Services

__all__ = [
    "MAX_DAYS",
    "MAX_QUEUE",
    "REVIEW_AFTER",
    "DaySales",
    "Settlement",
    "SettlementDifference",
    "SettlementLine",
    "issued_management_tokens",
    "parse_day",
    "pending_purchases",
    "sales_by_day",
    "settle_day",
]

MAX_DAYS = 92  # one report covers at most a quarter
MAX_QUEUE = 500
REVIEW_AFTER = timedelta(minutes=10)
_ZERO = Decimal("0.00")


def parse_day(text: str, field_name: str = "day") -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, f"{field_name} must look like 2026-12-01", field=field_name
        ) from None


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants from the start of ``first`` to the end of ``last`` (Jakarta days)."""
    start = datetime.combine(first, time(), tzinfo=JAKARTA)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=JAKARTA)
    return start, end


def _range(first: str, last: str) -> tuple[datetime, datetime]:
    a, b = parse_day(first, "from"), parse_day(last, "to")
    if b < a or (b - a).days >= MAX_DAYS:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"give from <= to, at most {MAX_DAYS} days apart")
    return _day_bounds(a, b)


@dataclass(frozen=True, slots=True)
class DaySales:
    day: str
    status: str
    count: int
    nominal: Decimal
    total_paid: Decimal
    kwh_tenths: int
    instalment: Decimal


async def sales_by_day(db: Database, viewer: Viewer, first: str, last: str) -> list[DaySales]:
    """Purchases per Jakarta day and status in ``[first, last]``, days ascending."""
    viewer.require_admin()
    start, end = _range(first, last)
    columns = (Purchase.created_at, Purchase.status, Purchase.nominal, Purchase.total_paid, Purchase.kwh_tenths,
               Purchase.instalment)  # fmt: skip
    async with db.session() as session:
        rows = (
            await session.execute(select(*columns).where(Purchase.created_at >= start, Purchase.created_at < end))
        ).all()
    groups: dict[tuple[str, str], DaySales] = {}
    for created_at, status, nominal, total_paid, kwh_tenths, instalment in rows:
        key = (created_at.astimezone(JAKARTA).date().isoformat(), status)
        before = groups.get(key) or DaySales(key[0], status, 0, _ZERO, _ZERO, 0, _ZERO)
        groups[key] = DaySales(
            before.day, status, before.count + 1, before.nominal + nominal, before.total_paid + total_paid,
            before.kwh_tenths + kwh_tenths, before.instalment + instalment,
        )  # fmt: skip
    return [groups[key] for key in sorted(groups)]


async def pending_purchases(db: Database, viewer: Viewer, *, older_than: timedelta, first: int) -> list[Purchase]:
    """PENDING purchases created more than ``older_than`` ago, oldest first (the review queue when
    ``older_than`` is :data:`REVIEW_AFTER`)."""
    viewer.require_admin()
    if not 1 <= first <= MAX_QUEUE:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"first must be between 1 and {MAX_QUEUE}")
    cutoff = utc_now() - older_than
    query = (
        select(Purchase)
        .where(Purchase.status == PurchaseStatus.PENDING.value, Purchase.created_at <= cutoff)
        .order_by(Purchase.created_at, Purchase.id)
        .limit(first)
    )
    async with db.session() as session:
        return list(await session.scalars(query))


async def issued_management_tokens(db: Database, viewer: Viewer, first: str, last: str) -> list[ManagementTokenRecord]:
    """Every management token issued in ``[first, last]`` (Jakarta days), newest first."""
    viewer.require_admin()
    start, end = _range(first, last)
    query = (
        select(ManagementTokenRecord)
        .where(ManagementTokenRecord.issued_at >= start, ManagementTokenRecord.issued_at < end)
        .order_by(ManagementTokenRecord.issued_at.desc(), ManagementTokenRecord.id.desc())
        .limit(MAX_QUEUE)
    )
    async with db.session() as session:
        return list(await session.scalars(query))


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """Counts and nominal sums per status, on our side and on the biller's."""

    status: str
    count: int
    nominal: Decimal
    biller_count: int
    biller_nominal: Decimal


@dataclass(frozen=True, slots=True)
class SettlementDifference:
    channel_reference: str
    problem: str  # MISSING_AT_BILLER | UNKNOWN_TO_US | STATUS_MISMATCH | AMOUNT_MISMATCH
    status: str | None  # ours
    biller_status: str | None
    nominal: Decimal | None
    biller_nominal: Decimal | None


@dataclass(slots=True)
class Settlement:
    day: str
    lines: list[SettlementLine] = field(default_factory=list)
    differences: list[SettlementDifference] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return not self.differences


def _biller_status(ours: str) -> str:
    # A reversal is recorded on our side only: the biller still shows the sale as SUCCESS.
    return PurchaseStatus.SUCCESS.value if ours == PurchaseStatus.REFUNDED.value else ours


async def settle_day(db: Database, services: Services, viewer: Viewer, day: str) -> Settlement:
    """A Jakarta day's sales against the biller's: per-status counts and sums, and every purchase
    whose status or amount differs, or that only one side knows."""
    viewer.require_admin()
    when = parse_day(day)
    start, end = _day_bounds(when, when)
    async with db.session() as session:
        ours = {
            ref: (status, nominal)
            for ref, status, nominal in await session.execute(
                select(Purchase.channel_reference, Purchase.status, Purchase.nominal).where(
                    Purchase.created_at >= start, Purchase.created_at < end
                )
            )
        }
    try:
        listed = await services.biller.sales_of_day(when.isoformat())
        theirs = {str(p["reference"]): (str(p["status"]), Decimal(str(p["amount"]))) for p in listed}
    except (BillerError, KeyError, TypeError, ArithmeticError) as error:
        raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, f"The biller's sales list is unavailable: {error}") from None
    report = Settlement(when.isoformat())
    statuses = sorted({s for s, _ in ours.values()} | {s for s, _ in theirs.values()})
    for status in statuses:
        mine = [n for s, n in ours.values() if s == status]
        billed = [n for s, n in theirs.values() if s == status]
        report.lines.append(SettlementLine(status, len(mine), sum(mine, _ZERO), len(billed), sum(billed, _ZERO)))
    for ref in sorted(ours.keys() | theirs.keys()):
        a, b = ours.get(ref), theirs.get(ref)
        if a is None:
            problem = "UNKNOWN_TO_US"
        elif b is None:
            problem = "MISSING_AT_BILLER"
        elif _biller_status(a[0]) != b[0]:
            problem = "STATUS_MISMATCH"
        elif a[1] != b[1]:
            problem = "AMOUNT_MISMATCH"
        else:
            continue
        report.differences.append(
            SettlementDifference(
                ref,
                problem,
                None if a is None else a[0],
                None if b is None else b[0],
                None if a is None else a[1],
                None if b is None else b[1],
            )
        )
    return report
