"""The operator's view (admin only): sales by day and status, the PENDING purchases and the
management tokens issued.

Days are Asia/Jakarta calendar days, like the monthly cap. The review queue (purchases the settlement
worker moved to REVIEW) is :func:`..settlement.purchases_in_review`; the day's comparison with the
biller is :mod:`..biller_reconciliation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from setrum_common.auth import Viewer
from setrum_common.clock import JAKARTA
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from ..models import ManagementTokenRecord, Purchase, PurchaseStatus

__all__ = [
    "MAX_DAYS",
    "MAX_QUEUE",
    "DaySales",
    "day_bounds",
    "issued_management_tokens",
    "parse_day",
    "pending_purchases",
    "sales_by_day",
]

MAX_DAYS = 92  # one report covers at most a quarter
MAX_QUEUE = 500
_ZERO = Decimal("0.00")


def parse_day(text: str, field_name: str = "day") -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, f"{field_name} must look like 2026-12-01", field=field_name
        ) from None


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants from the start of ``first`` to the end of ``last`` (Jakarta days)."""
    start = datetime.combine(first, time(), tzinfo=JAKARTA)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=JAKARTA)
    return start, end


def _range(first: str, last: str) -> tuple[datetime, datetime]:
    a, b = parse_day(first, "from"), parse_day(last, "to")
    if b < a or (b - a).days >= MAX_DAYS:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"give from <= to, at most {MAX_DAYS} days apart")
    return day_bounds(a, b)


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


async def pending_purchases(db: Database, viewer: Viewer, *, first: int) -> list[Purchase]:
    """PENDING purchases (money held until the biller answers), oldest first."""
    viewer.require_admin()
    if not 1 <= first <= MAX_QUEUE:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"first must be between 1 and {MAX_QUEUE}")
    query = (
        select(Purchase)
        .where(Purchase.status == PurchaseStatus.PENDING.value)
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
