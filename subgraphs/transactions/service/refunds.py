"""Giving a purchase back: its kWh leave the month's usage and the amount paid returns to the wallet,
exactly once, whether the biller failed it (PENDING -> FAILED) or reversed it (SUCCESS -> REFUNDED);
and holding one whose outcome only an operator can decide (PENDING -> REVIEW)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import instalments
from .. import repository as repo
from ..metrics import TransactionMetrics
from ..models import HELD_STATUSES, LedgerKind, Purchase, PurchaseStatus
from .lookup import reload_purchase

__all__ = ["fail_and_refund", "refund_purchase", "to_review"]


async def to_review(db: Database, purchase_id: str, reason: str, *, metrics: TransactionMetrics | None) -> bool:
    """PENDING -> REVIEW (the money stays held) for an operator; counted once, when it moved."""
    async with db.transaction() as session:
        moved = await repo.transition_purchase(
            session, purchase_id, from_status=PurchaseStatus.PENDING, to_status=PurchaseStatus.REVIEW
        )
    if moved and metrics is not None:
        metrics.purchase_needs_review(reason)
    return moved


async def _give_back(session: AsyncSession, purchase: Purchase) -> None:
    """Undo a purchase's effects inside the caller's transaction: its kWh leave the month's usage,
    its instalment goes back to the meter's debt and the amount paid returns to the wallet, booked under
    the (unique) ledger reference ``refund:<purchase id>``,
    whichever path, a failure or a reversal, gets there."""
    await repo.release_kwh(session, purchase.meter_number, purchase.usage_month, purchase.kwh_tenths)
    await repo.credit_wallet(
        session,
        purchase.customer_id,
        purchase.total_paid,
        kind=LedgerKind.REFUND_CREDIT,
        reference=f"refund:{purchase.id}",
        purchase_id=purchase.id,
    )
    if purchase.instalment > 0:  # last, in the booking's lock order (usage, wallet, instalment)
        await instalments.give_back(session, purchase.meter_number, purchase.instalment)


async def fail_and_refund(
    db: Database,
    purchase_id: str,
    *,
    code: str | None,
    message: str | None,
    biller_reference: str | None = None,
    metrics: TransactionMetrics | None = None,
) -> bool:
    """PENDING (or REVIEW) -> FAILED, give back the kWh and refund the wallet, all in one transaction
    (exactly once)."""
    async with db.transaction() as session:
        purchase = await repo.get_purchase(session, purchase_id)
        assert purchase is not None
        moved = await repo.transition_purchase(
            session,
            purchase_id,
            from_status=HELD_STATUSES,  # PENDING, or REVIEW settled by an operator
            to_status=PurchaseStatus.FAILED,
            biller_code=code,
            biller_message=message,
            biller_reference=biller_reference or purchase.biller_reference,
        )
        if not moved:
            return False
        await _give_back(session, purchase)
    if metrics is not None:
        metrics.purchase_reached(PurchaseStatus.FAILED)
        metrics.ledger_booked(LedgerKind.REFUND_CREDIT, purchase.total_paid)
    return True


async def refund_purchase(
    db: Database,
    viewer: Viewer,
    purchase_id: str,
    reason: str | None = None,
    *,
    metrics: TransactionMetrics | None = None,
) -> Purchase:
    """Admin: the biller reversed a SUCCESS; SUCCESS -> REFUNDED with its wallet credit, exactly once."""
    viewer.require_admin()
    async with db.transaction() as session:
        purchase = await repo.get_purchase(session, str(purchase_id))
        if purchase is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"No purchase {purchase_id}")
        moved = await repo.transition_purchase(
            session,
            purchase.id,
            from_status=PurchaseStatus.SUCCESS,
            to_status=PurchaseStatus.REFUNDED,
            biller_message=reason or purchase.biller_message,
        )
        if not moved:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT, f"Only a SUCCESS purchase can be refunded (this one is {purchase.status})"
            )
        await _give_back(session, purchase)
    if metrics is not None:
        metrics.purchase_reached(PurchaseStatus.REFUNDED)
        metrics.ledger_booked(LedgerKind.REFUND_CREDIT, purchase.total_paid)
    return await reload_purchase(db, purchase.id)
