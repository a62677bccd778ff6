"""Top-ups through the payment provider: intents, cancelling, and crediting a notified payment once.

A customer's ``createTopUp`` stores a PENDING top-up and asks the provider to open an intent for it
(our top-up id is the provider's merchant reference, so asking again never opens a second one); the
customer pays by virtual account or QRIS; the provider notifies us (see :mod:`..payment_notifications`)
and :func:`credit_payment` books it. Exactly once: the provider's payment id is the primary key of
``tx_top_up_payment`` and its ledger entry's reference, and both are written in one transaction with
the wallet balance, so a repeated (or concurrent) notification finds the payment and books nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from setrum_common.auth import Viewer
from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository as repo
from ..clients import PaymentsRefused, PaymentsUnavailable
from ..metrics import TransactionMetrics
from ..models import LedgerKind, TopUp, TopUpMethod, TopUpPayment, TopUpStatus
from ..settings import MAX_TOP_UP
from .dependencies import Services
from .inputs import require_buyer, whole_rupiah

__all__ = [
    "MIN_TOP_UP",
    "NotifiedPayment",
    "NotificationRefused",
    "cancel_top_up",
    "create_top_up",
    "credit_payment",
    "shown_status",
    "top_up_for_viewer",
    "top_ups_of",
]

MIN_TOP_UP = Decimal(10_000)  # what the gateways take for one VA or QRIS payment


def shown_status(row: TopUp, now: datetime | None = None) -> TopUpStatus:
    """EXPIRED is a PENDING top-up past its expiry: computed on read, so no job has to flip it."""
    status = TopUpStatus(row.status)
    if status is TopUpStatus.PENDING and row.expires_at is not None and (now or utc_now()) >= row.expires_at:
        return TopUpStatus.EXPIRED
    return status


async def create_top_up(
    db: Database, services: Services, viewer: Viewer, amount: Decimal, method: TopUpMethod, bank_code: str | None
) -> TopUp:
    customer_id = require_buyer(viewer)
    amount = whole_rupiah(amount, "amount", maximum=Decimal(MAX_TOP_UP))
    if amount < MIN_TOP_UP:
        raise DomainError(ErrorCode.AMOUNT_OUT_OF_RANGE, f"amount must be at least Rp {MIN_TOP_UP:,}".replace(",", "."))
    if bank_code is not None and method is not TopUpMethod.VIRTUAL_ACCOUNT:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "bankCode is for VIRTUAL_ACCOUNT top-ups only")
    row = TopUp(
        customer_id=customer_id,
        amount=amount,
        method=method.value,
        status=TopUpStatus.PENDING.value,
        bank_code=bank_code,
    )
    async with db.transaction() as session:
        session.add(row)
    try:
        intent = await services.payments.open_intent(
            merchant_reference=row.id, amount=amount, method=method.value, bank_code=bank_code
        )
    except PaymentsRefused as refused:
        await _set(db, row.id, status=TopUpStatus.FAILED.value)
        code = ErrorCode.BAD_USER_INPUT if refused.code == "UNKNOWN_BANK" else ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE
        raise DomainError(code, f"The payment provider refused the top-up: {refused}") from None
    except PaymentsUnavailable:
        await _set(db, row.id, status=TopUpStatus.FAILED.value)
        raise DomainError(
            ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE, "The payment provider is not answering; try again shortly"
        ) from None
    return await _set(
        db,
        row.id,
        provider_intent_id=intent.id,
        bank_code=intent.bank_code,
        va_number=intent.va_number,
        qris_payload=intent.qris_payload,
        expires_at=intent.expires_at,
    )


async def _set(db: Database, top_up_id: str, **values: object) -> TopUp:
    async with db.transaction() as session:
        await session.execute(update(TopUp).where(TopUp.id == top_up_id).values(updated_at=utc_now(), **values))
        row = await session.get(TopUp, top_up_id)
    assert row is not None
    return row


async def top_up_for_viewer(db: Database, viewer: Viewer, top_up_id: str) -> TopUp | None:
    viewer.require_authenticated()
    async with db.session() as session:
        row = await session.get(TopUp, top_up_id)
    if row is None or not viewer.can_access_customer(row.customer_id):
        return None
    return row


async def top_ups_of(db: Database, viewer: Viewer, first: int) -> Sequence[TopUp]:
    customer_id = require_buyer(viewer)
    async with db.session() as session:
        rows = await session.scalars(
            select(TopUp)
            .where(TopUp.customer_id == customer_id)
            .order_by(TopUp.created_at.desc(), TopUp.id.desc())
            .limit(max(1, min(first, 100)))
        )
        return list(rows)


async def cancel_top_up(db: Database, services: Services, viewer: Viewer, top_up_id: str) -> TopUp:
    """Cancel at the provider first: it is the one that could still take a payment."""
    row = await top_up_for_viewer(db, viewer, top_up_id)
    if row is None or row.customer_id != viewer.customer_id:
        raise DomainError(ErrorCode.NOT_FOUND, "No such top-up")
    status = shown_status(row)
    if status is TopUpStatus.PAID:
        raise DomainError(ErrorCode.TOP_UP_ALREADY_PAID, "This top-up is paid and can no longer be cancelled")
    if status is not TopUpStatus.PENDING:
        return row  # cancelled, expired or failed already: nothing can be paid
    if row.provider_intent_id is not None:
        try:
            await services.payments.cancel_intent(row.provider_intent_id)
        except PaymentsRefused as refused:
            if refused.code == "ALREADY_PAID":
                raise DomainError(
                    ErrorCode.TOP_UP_ALREADY_PAID, "This top-up was just paid; the wallet is credited shortly"
                ) from None
            raise DomainError(ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE, f"The provider refused: {refused}") from None
        except PaymentsUnavailable:
            raise DomainError(
                ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE, "The payment provider is not answering; try again shortly"
            ) from None
    async with db.transaction() as session:
        await session.execute(
            update(TopUp)
            .where(TopUp.id == top_up_id, TopUp.status == TopUpStatus.PENDING.value)
            .values(status=TopUpStatus.CANCELLED.value, updated_at=utc_now())
        )
        fresh = await session.get(TopUp, top_up_id)
    assert fresh is not None
    return fresh


# --- crediting a notified payment ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotifiedPayment:
    """What a verified notification says was paid."""

    payment_id: str
    intent_id: str
    top_up_id: str  # the merchant reference: our id
    amount: Decimal
    paid_at: datetime


class NotificationRefused(Exception):
    """The notification's payment cannot be credited; ``reason`` labels the metric, ``status``/``code`` the answer."""

    def __init__(self, status: int, code: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.reason = reason


async def credit_payment(db: Database, paid: NotifiedPayment, *, metrics: TransactionMetrics | None = None) -> bool:
    """Book ``paid`` once; True when this call credited it, False when it was credited before."""
    try:
        async with db.transaction() as session:
            # The top-up first, then the payment: a concurrent credit commits both together, so once its
            # PAID status is visible here (READ COMMITTED reads each statement afresh) so is its payment.
            row = await session.get(TopUp, paid.top_up_id)
            if await _already_credited(session, paid):
                return False
            _check_payable(row, paid)
            assert row is not None
            session.add(
                TopUpPayment(
                    provider_payment_id=paid.payment_id,
                    top_up_id=row.id,
                    customer_id=row.customer_id,
                    amount=paid.amount,
                    ledger_reference=ledger_reference(paid.payment_id),
                    paid_at=paid.paid_at,
                )
            )
            await session.flush()  # the unique keys decide here, before any money moves
            await repo.credit_wallet(
                session,
                row.customer_id,
                paid.amount,
                kind=LedgerKind.TOPUP,
                reference=ledger_reference(paid.payment_id),
            )
            await session.execute(
                update(TopUp)
                .where(TopUp.id == row.id)
                .values(status=TopUpStatus.PAID.value, paid_at=paid.paid_at, updated_at=utc_now())
            )
    except IntegrityError:  # a concurrent notification won the unique keys (PostgreSQL)
        async with db.session() as session:
            if await _already_credited(session, paid):
                return False  # the same payment: it is booked, once
            other = await session.scalar(select(TopUpPayment).where(TopUpPayment.top_up_id == paid.top_up_id))
        if other is None:
            raise
        raise NotificationRefused(
            409, "ALREADY_PAID", "already_paid", "the top-up was paid by another payment"
        ) from None
    if metrics is not None:
        metrics.ledger_booked(LedgerKind.TOPUP, paid.amount)
    return True


def ledger_reference(payment_id: str) -> str:
    return "payment:" + payment_id


async def _already_credited(session: AsyncSession, paid: NotifiedPayment) -> bool:
    existing = await session.get(TopUpPayment, paid.payment_id)
    if existing is None:
        return False
    if existing.top_up_id != paid.top_up_id or existing.amount != paid.amount:
        raise NotificationRefused(
            409, "PAYMENT_CONFLICT", "conflict", "this payment id was credited for another top-up"
        )
    return True


def _check_payable(row: TopUp | None, paid: NotifiedPayment) -> None:
    if row is None or (row.provider_intent_id is not None and row.provider_intent_id != paid.intent_id):
        raise NotificationRefused(404, "UNKNOWN_INTENT", "unknown_intent", "no top-up for this intent")
    if row.amount != paid.amount:
        raise NotificationRefused(422, "AMOUNT_MISMATCH", "amount_mismatch", f"the top-up is for {row.amount}")
    if row.status == TopUpStatus.PAID.value:
        raise NotificationRefused(409, "ALREADY_PAID", "already_paid", "the top-up was paid by another payment")
    if row.status in (TopUpStatus.CANCELLED.value, TopUpStatus.FAILED.value):
        raise NotificationRefused(409, "INTENT_CANCELLED", "cancelled", "the top-up was cancelled")
    if row.expires_at is None or paid.paid_at >= row.expires_at:
        raise NotificationRefused(410, "INTENT_EXPIRED", "expired", "the top-up had expired when it was paid")
