"""What the provider does: open intents, take (simulated) payments, keep each notification's state.

- **An intent per merchant reference.** Creating it again with the same reference answers the same
  intent (a merchant retrying after a timeout gets no second VA); with another amount or method it is
  refused.
- **An intent is paid at most once, and only while it is open:** the status moves PENDING -> PAID in
  one conditional UPDATE that also checks the expiry, in the transaction that records the payment.
  A cancelled, expired or paid intent cannot be paid.
- **Each payment owes the merchant a notification** until the merchant accepts it (DELIVERED) or
  refuses it for good (REFUND: the money goes back to the payer, as a real gateway would do).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from setrum_common.clock import utc_now
from setrum_common.db import Database, rowcount
from setrum_common.json_service import JsonRefusal

from .models import Intent, IntentStatus, NotifyState, Payment
from .qris import parse_fields, qris_payload

__all__ = [
    "BANKS",
    "METHODS",
    "IntentView",
    "PaymentRefused",
    "PaymentsService",
    "ReferenceReused",
]

METHODS = ("VIRTUAL_ACCOUNT", "QRIS")
# Bank code -> (name, the VA prefix our merchant number has at that bank). Codes are the banks' clearing codes.
BANKS = {
    "BCA": ("Bank Central Asia", "014", "39358"),
    "BNI": ("Bank Negara Indonesia", "009", "8808"),
    "BRI": ("Bank Rakyat Indonesia", "002", "26215"),
    "MANDIRI": ("Bank Mandiri", "008", "89508"),
    "PERMATA": ("Bank Permata", "013", "8528"),
}
_VA_LENGTH = 16

Clock = Callable[[], datetime]


class PaymentRefused(JsonRefusal):
    """A request the provider refuses: ``status`` and ``code`` go to the HTTP answer."""


class ReferenceReused(PaymentRefused):
    def __init__(self) -> None:
        super().__init__(409, "DUPLICATE_REFERENCE", "the merchant reference was used for another amount or method")


@dataclass(frozen=True, slots=True)
class IntentView:
    intent: Intent
    payment: Payment | None
    now: datetime

    @property
    def status(self) -> str:
        if self.intent.status == IntentStatus.PENDING and self.now >= self.intent.expires_at:
            return IntentStatus.EXPIRED
        return self.intent.status

    def to_json(self) -> dict[str, Any]:
        i = self.intent
        bank = BANKS.get(i.bank_code or "")
        return {
            "id": i.id,
            "merchantReference": i.merchant_reference,
            "amount": str(i.amount),
            "currency": "IDR",
            "method": i.method,
            "status": self.status,
            "bankCode": i.bank_code,
            "bankName": bank[0] if bank else None,
            "vaNumber": i.va_number,
            "qrisPayload": i.qris_payload,
            "expiresAt": i.expires_at.isoformat(),
            "createdAt": i.created_at.isoformat(),
            "payment": None if self.payment is None else payment_json(self.payment, i),
        }


def payment_json(payment: Payment, intent: Intent) -> dict[str, Any]:
    return {
        "id": payment.id,
        "intentId": intent.id,
        "amount": str(payment.amount),
        "paidAt": payment.paid_at.isoformat(),
        "notifyState": payment.notify_state,
        "attempts": payment.attempts,
        "lastAnswer": payment.last_answer,
    }


def _va_number(bank_code: str) -> str:
    prefix = BANKS[bank_code][2]
    return prefix + "".join(secrets.choice("0123456789") for _ in range(_VA_LENGTH - len(prefix)))


class PaymentsService:
    def __init__(self, db: Database, *, va_ttl_s: int, qris_ttl_s: int, clock: Clock = utc_now) -> None:
        self.db = db
        self.va_ttl = timedelta(seconds=va_ttl_s)
        self.qris_ttl = timedelta(seconds=qris_ttl_s)
        self.clock = clock

    async def create_intent(
        self, merchant_reference: str, amount: int, method: str, bank_code: str | None
    ) -> IntentView:
        if method not in METHODS:
            raise PaymentRefused(400, "BAD_REQUEST", f"method must be one of {', '.join(METHODS)}")
        if method == "VIRTUAL_ACCOUNT":
            bank_code = bank_code or "BCA"
            if bank_code not in BANKS:
                raise PaymentRefused(400, "UNKNOWN_BANK", f"bankCode must be one of {', '.join(BANKS)}")
        else:
            bank_code = None
        existing = await self._by_reference(merchant_reference)
        if existing is None:
            for _ in range(5):  # a VA number collision is astronomically rare; try a new one
                try:
                    await self._insert(merchant_reference, amount, method, bank_code)
                    break
                except IntegrityError:
                    if (existing := await self._by_reference(merchant_reference)) is not None:
                        break
            existing = existing or await self._by_reference(merchant_reference)
        assert existing is not None
        if existing.amount != amount or existing.method != method:
            raise ReferenceReused()
        view = await self.view(existing.id)
        assert view is not None  # the intent of a reference is never deleted
        return view

    async def _insert(self, merchant_reference: str, amount: int, method: str, bank_code: str | None) -> None:
        now = self.clock()
        intent_id = "pi_" + uuid.uuid4().hex[:22]  # 25 characters: fits a QRIS bill number
        intent = Intent(
            id=intent_id,
            merchant_reference=merchant_reference,
            amount=amount,
            method=method,
            bank_code=bank_code,
            va_number=_va_number(bank_code) if bank_code else None,
            qris_payload=qris_payload(amount=amount, bill_number=intent_id) if method == "QRIS" else None,
            status=IntentStatus.PENDING,
            expires_at=now + (self.qris_ttl if method == "QRIS" else self.va_ttl),
            created_at=now,
            updated_at=now,
        )
        async with self.db.transaction() as session:
            session.add(intent)

    async def _by_reference(self, merchant_reference: str) -> Intent | None:
        async with self.db.session() as session:
            found: Intent | None = await session.scalar(
                select(Intent).where(Intent.merchant_reference == merchant_reference)
            )
            return found

    async def view(self, intent_id: str) -> IntentView | None:
        async with self.db.session() as session:
            intent = await session.get(Intent, intent_id)
            if intent is None:
                return None
            payment = await session.scalar(select(Payment).where(Payment.intent_id == intent_id))
        return IntentView(intent, payment, self.clock())

    async def find(self, handle: str) -> IntentView | None:
        """An intent by its id, merchant reference, VA number or QRIS payload (what a payer has in hand)."""
        handle = handle.strip()
        if handle.startswith("000201"):
            try:
                bill = parse_fields(handle).get("62", "")
            except ValueError:
                return None
            handle = bill[4:] if bill.startswith("01") else handle
        async with self.db.session() as session:
            intent_id = await session.scalar(
                select(Intent.id).where(
                    or_(Intent.id == handle, Intent.merchant_reference == handle, Intent.va_number == handle)
                )
            )
        return None if intent_id is None else await self.view(intent_id)

    async def cancel(self, intent_id: str) -> IntentView:
        now = self.clock()
        async with self.db.transaction() as session:
            changed = await session.execute(
                update(Intent)
                .where(Intent.id == intent_id, Intent.status == IntentStatus.PENDING)
                .values(status=IntentStatus.CANCELLED, updated_at=now)
            )
        view = await self.view(intent_id)
        if view is None:
            raise PaymentRefused(404, "UNKNOWN_INTENT", "no such intent")
        if not rowcount(changed) and view.status == IntentStatus.PAID:
            raise PaymentRefused(409, "ALREADY_PAID", "the intent is paid and can no longer be cancelled")
        return view

    async def pay(self, handle: str, amount: int | None = None) -> IntentView:
        """A payer pays the intent ``handle`` names (the simulator stands for the payer's bank)."""
        view = await self.find(handle)
        if view is None:
            raise PaymentRefused(404, "UNKNOWN_INTENT", "no open intent for this VA number, QRIS code or id")
        intent = view.intent
        if amount is not None and amount != intent.amount:
            raise PaymentRefused(422, "AMOUNT_MISMATCH", f"this bill is for exactly Rp {intent.amount}")
        refusals = {
            IntentStatus.PAID: (409, "ALREADY_PAID", "this bill is already paid"),
            IntentStatus.CANCELLED: (409, "INTENT_CANCELLED", "this bill was cancelled"),
            IntentStatus.EXPIRED: (410, "INTENT_EXPIRED", "this bill has expired"),
        }
        if view.status in refusals:
            raise PaymentRefused(*refusals[view.status])
        now = self.clock()
        async with self.db.transaction() as session:
            opened = await session.execute(
                update(Intent)
                .where(Intent.id == intent.id, Intent.status == IntentStatus.PENDING, Intent.expires_at > now)
                .values(status=IntentStatus.PAID, updated_at=now)
            )
            was_open = bool(rowcount(opened))
            if was_open:
                session.add(
                    Payment(
                        id="pay_" + uuid.uuid4().hex,
                        intent_id=intent.id,
                        amount=intent.amount,
                        paid_at=now,
                        notify_state=NotifyState.PENDING,
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
        if not was_open:  # someone else paid, cancelled, or it just expired
            return await self.pay(handle, amount)
        paid = await self.view(intent.id)
        assert paid is not None
        return paid

    async def due(self, limit: int, lease: timedelta) -> list[tuple[Payment, Intent]]:
        """Payments whose notification is due, leased for ``lease`` so one delivery runs at a time."""
        now = self.clock()
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(Payment, Intent)
                    .join(Intent, Intent.id == Payment.intent_id)
                    .where(Payment.notify_state == NotifyState.PENDING, Payment.next_attempt_at <= now)
                    .order_by(Payment.next_attempt_at)
                    .limit(limit)
                    .with_for_update(of=Payment, skip_locked=True)  # replicas on one PostgreSQL take turns
                )
            ).all()
            for payment, _ in rows:
                payment.next_attempt_at = now + lease
        return [(p, i) for p, i in rows]

    async def record_answer(self, payment_id: str, state: str, answer: str, retry_in: timedelta | None) -> None:
        now = self.clock()
        async with self.db.transaction() as session:
            payment = await session.get(Payment, payment_id)
            if payment is None or payment.notify_state != NotifyState.PENDING:
                return
            payment.attempts += 1
            payment.last_answer = answer[:255]
            payment.notify_state = state
            if state == NotifyState.DELIVERED:
                payment.delivered_at = now
            if retry_in is not None:
                payment.next_attempt_at = now + retry_in
