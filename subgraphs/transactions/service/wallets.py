"""The wallet: its balance, development top-ups and admins' adjustments.

Real money comes in through the payment provider (:mod:`.topups`). ``topUpWallet`` survives as a
development convenience for customers (refused in production with ``TOP_UP_REQUIRES_PAYMENT``) and as
an admin's adjustment, which needs a reason and leaves an audit-log row beside its ledger entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository as repo
from ..metrics import TransactionMetrics
from ..models import LedgerKind, WalletAdjustment
from ..settings import MAX_TOP_UP
from .inputs import checked_reference, require_buyer, whole_rupiah

__all__ = ["WalletView", "adjustments", "credit_once", "top_up", "wallet_of"]


@dataclass(frozen=True, slots=True)
class WalletView:
    customer_id: str
    balance: Decimal
    currency: str = "IDR"


async def wallet_of(db: Database, customer_id: str) -> WalletView:
    async with db.session() as session:
        wallet = await repo.get_wallet(session, customer_id)
    return WalletView(customer_id, wallet.balance if wallet else Decimal("0.00"))


async def top_up(
    db: Database,
    viewer: Viewer,
    amount: Decimal,
    payment_reference: str,
    *,
    production: bool,
    customer_id: str | None = None,
    reason: str | None = None,
    metrics: TransactionMetrics | None = None,
) -> WalletView:
    """An admin's adjustment (``customer_id`` and ``reason`` required), or a customer's development
    top-up of their own wallet; replaying ``payment_reference`` changes nothing."""
    viewer.require_authenticated()
    amount = whole_rupiah(amount, "amount", maximum=Decimal(MAX_TOP_UP))
    reference = checked_reference(payment_reference, "paymentReference")
    if viewer.is_admin:
        return await _adjust(db, viewer, amount, reference, customer_id, reason, metrics)
    if customer_id is not None or reason is not None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only an admin adjusts a wallet (customerId, reason)")
    buyer = require_buyer(viewer)
    if production:
        raise DomainError(
            ErrorCode.TOP_UP_REQUIRES_PAYMENT,
            "Wallet money comes from payments: create a top-up with createTopUp and pay it",
        )
    await credit_once(db, buyer, amount, "topup:" + reference, kind=LedgerKind.DEV_TOPUP, metrics=metrics)
    return await wallet_of(db, buyer)


async def _adjust(
    db: Database,
    viewer: Viewer,
    amount: Decimal,
    reference: str,
    customer_id: str | None,
    reason: str | None,
    metrics: TransactionMetrics | None,
) -> WalletView:
    reason = (reason or "").strip()
    if not customer_id or not 3 <= len(reason) <= 500:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "An adjustment needs customerId and a reason of 3-500 characters")
    admin_id = viewer.customer_id or viewer.subject or "admin"
    audit = WalletAdjustment(
        customer_id=customer_id,
        amount=amount,
        reason=reason,
        admin_id=str(admin_id),
        ledger_reference="adjust:" + reference,
    )
    await credit_once(
        db, customer_id, amount, audit.ledger_reference, kind=LedgerKind.ADJUSTMENT, metrics=metrics, audit=audit
    )
    return await wallet_of(db, customer_id)


async def adjustments(db: Database, viewer: Viewer, customer_id: str | None, first: int) -> Sequence[WalletAdjustment]:
    """Admin: the adjustment audit log, newest first (one customer's, or everyone's)."""
    viewer.require_admin()
    query = select(WalletAdjustment).order_by(WalletAdjustment.created_at.desc(), WalletAdjustment.id.desc())
    if customer_id is not None:
        query = query.where(WalletAdjustment.customer_id == customer_id)
    async with db.session() as session:
        return list(await session.scalars(query.limit(max(1, min(first, 500)))))


async def credit_once(
    db: Database,
    customer_id: str,
    amount: Decimal,
    reference: str,
    *,
    kind: LedgerKind,
    metrics: TransactionMetrics | None = None,
    audit: WalletAdjustment | None = None,
) -> bool:
    """A credit of ``kind`` under a globally unique reference (with its audit row, if any, in the same
    transaction); True if it was new. Used by the seed too."""
    try:
        created = False
        async with db.transaction() as session:
            existing = await repo.find_ledger_entry(session, reference)
            if existing is None:
                await repo.credit_wallet(session, customer_id, amount, kind=kind, reference=reference)
                if audit is not None:
                    session.add(audit)
                created = True
        if created:  # counted once committed
            if metrics is not None:
                metrics.ledger_booked(kind, amount)
            return True
    except IntegrityError:  # a concurrent top-up with the same reference won (PostgreSQL)
        async with db.session() as session:
            existing = await repo.find_ledger_entry(session, reference)
        if existing is None:
            raise
    assert existing is not None
    if existing.customer_id != customer_id or existing.amount != amount or existing.kind != kind.value:
        raise DomainError(
            ErrorCode.DUPLICATE_REFERENCE, "This payment reference was already used for a different top-up"
        )
    return False
