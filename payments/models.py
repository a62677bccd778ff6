"""The provider's own tables: payment intents (what a customer is asked to pay) and payments.

Amounts are whole rupiah (Indonesian virtual accounts and QRIS take no cents). One intent is paid
at most once (``intent_id`` is unique on the payment), and each payment carries its notification's
delivery state: the notifier retries it with backoff until the merchant answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, MetaData, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from setrum_common.column_types import UTCDateTime
from setrum_common.db import NAMING_CONVENTION
from setrum_common.db import Base as _Base

__all__ = ["Intent", "IntentStatus", "NotifyState", "Payment", "PaymentsBase"]


class PaymentsBase(_Base):
    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IntentStatus:
    PENDING = "PENDING"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"  # shown when a PENDING intent's expiry has passed; never stored


class NotifyState:
    PENDING = "PENDING"  # not yet accepted by the merchant; the notifier tries again
    DELIVERED = "DELIVERED"  # the merchant answered 2xx
    REFUND = "REFUND"  # the merchant refused the payment for good: money to go back to the payer


class Intent(PaymentsBase):
    __tablename__ = "pay_intent"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_reference: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(16))  # VIRTUAL_ACCOUNT | QRIS
    bank_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    va_number: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    qris_payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(PaymentsBase):
    __tablename__ = "pay_payment"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    intent_id: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notify_state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_answer: Mapped[str | None] = mapped_column(String(255), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
