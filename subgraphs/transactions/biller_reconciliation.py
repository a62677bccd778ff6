"""The daily reconciliation of our purchases against the biller's record (the biller's record is the truth).

For one Asia/Jakarta calendar day (by when a purchase was made) we read the biller's ``GET /v1/sales/{day}``
and compare it with ours: counts and nominal sums per status on both sides, and every purchase the two
disagree on. A purchase made near midnight may sit on the other side's neighbouring day, so one only
one side lists is looked up by reference before it is called missing. A REFUNDED purchase matches the
biller's SUCCESS (a reversal is recorded on our side only), and a FAILED one the biller never saw
matches its absence (nothing was sold).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .clients import BillerError, BillerOutcome
from .models import Purchase, PurchaseStatus
from .service.dependencies import Services
from .service.operations import day_bounds

__all__ = ["BillerReconciliation", "Difference", "Line", "Problem", "reconcile_with_biller"]

_ZERO = Decimal("0.00")


class Problem:
    """What a :class:`Difference` is about."""

    MISSING_HERE = "MISSING_HERE"  # the biller has it; we do not
    MISSING_AT_BILLER = "MISSING_AT_BILLER"  # we have it (not FAILED); the biller does not
    STATUS_MISMATCH = "STATUS_MISMATCH"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    TOKEN_MISMATCH = "TOKEN_MISMATCH"


@dataclass(frozen=True, slots=True)
class Line:
    """One status of the day: our count and nominal sum beside the biller's."""

    status: str
    count: int
    nominal: Decimal
    biller_count: int
    biller_nominal: Decimal


@dataclass(frozen=True, slots=True)
class Difference:
    channel_reference: str
    problem: str
    status: str | None  # ours
    biller_status: str | None
    nominal: Decimal | None
    biller_nominal: Decimal | None


@dataclass(slots=True)
class BillerReconciliation:
    day: date
    truncated: bool  # the biller's list was cut short: the report is incomplete
    lines: list[Line] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.differences or self.truncated)


@dataclass(frozen=True, slots=True)
class _Side:
    status: str
    nominal: Decimal
    token: str | None


def _as_biller_sees_it(ours: str) -> str:
    return PurchaseStatus.SUCCESS.value if ours == PurchaseStatus.REFUNDED.value else ours


def _difference(ref: str, ours: _Side | None, theirs: _Side | None) -> Difference | None:
    if ours is None and theirs is None:
        return None
    if ours is None:
        problem = Problem.MISSING_HERE
    elif theirs is None:
        if ours.status == PurchaseStatus.FAILED.value:
            return None
        problem = Problem.MISSING_AT_BILLER
    elif _as_biller_sees_it(ours.status) != theirs.status:
        problem = Problem.STATUS_MISMATCH
    elif ours.nominal != theirs.nominal:
        problem = Problem.AMOUNT_MISMATCH
    elif ours.token != theirs.token:
        problem = Problem.TOKEN_MISMATCH
    else:
        return None
    return Difference(
        ref,
        problem,
        None if ours is None else ours.status,
        None if theirs is None else theirs.status,
        None if ours is None else ours.nominal,
        None if theirs is None else theirs.nominal,
    )


def _biller_side(outcome: BillerOutcome, amount: Decimal) -> _Side:
    return _Side(outcome.status, amount, outcome.token)


async def _ours(db: Database, day: date, elsewhere: set[str]) -> tuple[dict[str, _Side], dict[str, _Side]]:
    """Our purchases made that day, and those the biller listed that we made on another day."""
    start, end = day_bounds(day, day)
    columns = (Purchase.channel_reference, Purchase.status, Purchase.nominal, Purchase.token)
    async with db.session() as session:
        rows = await session.execute(select(*columns).where(Purchase.created_at >= start, Purchase.created_at < end))
        of_day = {ref: _Side(status, nominal, token) for ref, status, nominal, token in rows}
        others = sorted(elsewhere - of_day.keys())
        found: dict[str, _Side] = {}
        if others:
            rows = await session.execute(select(*columns).where(Purchase.channel_reference.in_(others)))
            found = {ref: _Side(status, nominal, token) for ref, status, nominal, token in rows}
    return of_day, found


# Sales per page of the biller's list (None: the biller's own page, 20,000); tests make pages small.
SALES_PAGE_SIZE: int | None = None


async def reconcile_with_biller(db: Database, services: Services, viewer: Viewer, day: date) -> BillerReconciliation:
    """Admin: one Jakarta day of our purchases against the biller's record."""
    viewer.require_admin()
    if not date(2000, 1, 1) <= day <= date(9998, 12, 31):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "date is outside the supported range")
    try:
        sales, truncated = await services.biller.sales_of_day(day, page_size=SALES_PAGE_SIZE)
        theirs = {outcome.reference: _biller_side(outcome, amount) for outcome, amount in sales}
        ours, ours_elsewhere = await _ours(db, day, set(theirs))
        # Ours the biller did not list for the day (and that it could have sold): ask it by reference.
        theirs_elsewhere: dict[str, _Side] = {}
        for ref in sorted(ours.keys() - theirs.keys()):
            if ours[ref].status != PurchaseStatus.FAILED.value and not truncated:
                outcome = await services.biller.status(ref)
                if outcome is not None:  # (its single-purchase answer carries no amount: ours stands)
                    theirs_elsewhere[ref] = _Side(outcome.status, ours[ref].nominal, outcome.token)
    except BillerError as error:
        raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, f"The biller did not give its record: {error}") from None
    report = BillerReconciliation(day, truncated)
    for status in sorted({s.status for s in ours.values()} | {s.status for s in theirs.values()}):
        mine = [s.nominal for s in ours.values() if s.status == status]
        billed = [s.nominal for s in theirs.values() if s.status == status]
        report.lines.append(Line(status, len(mine), sum(mine, _ZERO), len(billed), sum(billed, _ZERO)))
    everyone = {**ours_elsewhere, **ours}
    billed_all = {**theirs_elsewhere, **theirs}
    for ref in sorted(everyone.keys() | billed_all.keys()):
        if (found := _difference(ref, everyone.get(ref), billed_all.get(ref))) is not None:
            report.differences.append(found)
    return report
