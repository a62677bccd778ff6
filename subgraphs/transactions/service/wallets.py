"""The wallet: its balance and (simulated) top-ups, each payment credited once."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository as repo
from ..metrics import TransactionMetrics
from ..models import LedgerKind
from ..settings import MAX_TOP_UP
from .inputs import checked_reference, require_buyer, whole_rupiah

__all__ = ["WalletView", "credit_once", "top_up", "wallet_of"]


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
    metrics: TransactionMetrics | None = None,
) -> WalletView:
    """Credit a (simulated) payment once: replaying ``payment_reference`` changes nothing."""
    customer_id = require_buyer(viewer)
    amount = whole_rupiah(amount, "amount", maximum=Decimal(MAX_TOP_UP))
    reference = "topup:" + checked_reference(payment_reference, "paymentReference")
    await credit_once(db, customer_id, amount, reference, metrics=metrics)
    return await wallet_of(db, customer_id)


async def credit_once(
    db: Database, customer_id: str, amount: Decimal, reference: str, *, metrics: TransactionMetrics | None = None
) -> bool:
    """A TOPUP under a globally unique reference; True if it was new. Used by the seed too."""
    try:
        created = False
        async with db.transaction() as session:
            existing = await repo.find_ledger_entry(session, reference)
            if existing is None:
                await repo.credit_wallet(session, customer_id, amount, kind=LedgerKind.TOPUP, reference=reference)
                created = True
        if created:  # counted once committed
            if metrics is not None:
                metrics.ledger_booked(LedgerKind.TOPUP, amount)
            return True
    except IntegrityError:  # a concurrent top-up with the same reference won (PostgreSQL)
        async with db.session() as session:
            existing = await repo.find_ledger_entry(session, reference)
        if existing is None:
            raise
    assert existing is not None
    if existing.customer_id != customer_id or existing.amount != amount or existing.kind != LedgerKind.TOPUP.value:
        raise DomainError(
            ErrorCode.DUPLICATE_REFERENCE, "This payment reference was already used for a different top-up"
        )
    return False
