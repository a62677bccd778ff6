"""The daily reconciliation of our sales against the biller's record (the biller's record is the truth).

For one Asia/Jakarta calendar day, every token the biller issued under one of our references must be
a SUCCESS (or later REFUNDED) purchase here with the same token, and every token we hold for that day
must be in the biller's record. Anything else is listed for an operator: a purchase the biller sold
but we still hold as PENDING/REVIEW, a token we hold that the biller does not know, or two tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from setrum_common.auth import Viewer
from setrum_common.clock import JAKARTA
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .clients import BillerError
from .models import Purchase, PurchaseStatus
from .service.dependencies import Services

__all__ = ["BillerReconciliation", "reconcile_with_biller"]

_ISSUED_HERE = (PurchaseStatus.SUCCESS.value, PurchaseStatus.REFUNDED.value)


@dataclass(frozen=True, slots=True)
class BillerReconciliation:
    day: date
    biller_issued: int
    issued_here: int
    missing_here: list[str]  # channel references the biller issued a token for that we do not hold as issued
    missing_at_biller: list[str]  # our issued purchases the biller has no token for that day
    token_mismatches: list[str]  # both have it, with different tokens
    truncated: bool  # the biller's list was cut short: the report is incomplete

    @property
    def ok(self) -> bool:
        return not (self.missing_here or self.missing_at_biller or self.token_mismatches or self.truncated)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=JAKARTA)
    return start, start + timedelta(days=1)


async def reconcile_with_biller(db: Database, services: Services, viewer: Viewer, day: date) -> BillerReconciliation:
    """Admin: compare one Jakarta day of issued tokens with the biller's record."""
    viewer.require_admin()
    if not date(2000, 1, 1) <= day <= date(9998, 12, 31):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "date is outside the supported range")
    start, end = _day_bounds(day)
    try:
        issued, truncated = await services.biller.issued(start, end)
    except BillerError as error:
        raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, f"The biller did not give its record: {error}") from None
    at_biller = {outcome.reference: outcome.token for outcome in issued}
    async with db.session() as session:
        ours = {
            reference: token
            for reference, token in await session.execute(
                select(Purchase.channel_reference, Purchase.token).where(
                    Purchase.status.in_(_ISSUED_HERE), Purchase.issued_at >= start, Purchase.issued_at < end
                )
            )
        }
        # A token the biller issued that day may sit on a purchase we recorded under another day's time.
        elsewhere = set(at_biller) - set(ours)
        if elsewhere:
            rows = await session.execute(
                select(Purchase.channel_reference, Purchase.token).where(
                    Purchase.channel_reference.in_(sorted(elsewhere)), Purchase.status.in_(_ISSUED_HERE)
                )
            )
            ours.update({reference: token for reference, token in rows})
    return BillerReconciliation(
        day=day,
        biller_issued=len(at_biller),
        issued_here=len(ours),
        missing_here=sorted(set(at_biller) - set(ours)),
        missing_at_biller=sorted(ref for ref in set(ours) - set(at_biller)),
        token_mismatches=sorted(ref for ref in set(ours) & set(at_biller) if ours[ref] != at_biller[ref]),
        truncated=truncated,
    )
