"""Tables of the transactions subgraph (prefix ``tx_``).

Money is stored as integer cents and kWh as integer tenths: both databases then add and
compare exactly (SQLite has no decimal type), and the Python side still sees ``Decimal``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from setrum_common import db
from setrum_common.clock import utc_now
from setrum_common.column_types import ScaledDecimal, UTCDateTime

__all__ = [
    "TransactionsBase",
    "Money",
    "UTCDateTime",
    "LedgerKind",
    "PurchaseStatus",
    "HELD_STATUSES",
    "Wallet",
    "LedgerEntry",
    "Purchase",
    "MeterMonthUsage",
    "MeterInstalment",
    "ManagementTokenKind",
    "ManagementTokenRecord",
    "TopUp",
    "TopUpMethod",
    "TopUpStatus",
    "TopUpPayment",
    "PaymentDelivery",
    "WalletAdjustment",
    "new_purchase_id",
    "channel_reference_for",
]


def new_purchase_id() -> str:
    return str(uuid.uuid4())


def channel_reference_for(purchase_id: str) -> str:
    """Our reference towards the biller: unique per purchase, never the client's string."""
    return "STR" + uuid.UUID(purchase_id).hex.upper()


class Money(ScaledDecimal):
    """A rupiah amount with 2 decimals, stored as integer cents."""

    cache_ok = True  # SQLAlchemy reads it from each subclass itself

    def __init__(self) -> None:
        super().__init__(2)


class TransactionsBase(db.Base):
    __abstract__ = True
    metadata = MetaData(naming_convention=db.NAMING_CONVENTION)


class LedgerKind(str, enum.Enum):
    TOPUP = "TOPUP"  # a payment the provider notified: exactly one TopUpPayment row per entry
    DEV_TOPUP = "DEV_TOPUP"  # topUpWallet by a customer in development (no payment behind it)
    ADJUSTMENT = "ADJUSTMENT"  # an admin's adjustment, with its reason in WalletAdjustment
    PURCHASE_DEBIT = "PURCHASE_DEBIT"
    REFUND_CREDIT = "REFUND_CREDIT"


class ManagementTokenKind(str, enum.Enum):
    """STS class 2 management tokens we let support staff issue (IEC 62055-41)."""

    SET_MAX_POWER = "SET_MAX_POWER"
    CLEAR_CREDIT = "CLEAR_CREDIT"
    CLEAR_TAMPER = "CLEAR_TAMPER"


class PurchaseStatus(str, enum.Enum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    # Still unsettled after the settlement worker's time (or the biller holds something else under our
    # reference): the money stays held and only an operator settles it (``settlePurchase``).
    REVIEW = "REVIEW"


HELD_STATUSES = (PurchaseStatus.PENDING.value, PurchaseStatus.REVIEW.value)
"""Statuses whose money and kWh are held while the outcome is unknown."""


class Wallet(TransactionsBase):
    """The balance row: changed only in the same transaction as a ledger entry."""

    __tablename__ = "tx_wallet"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="IDR")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class LedgerEntry(TransactionsBase):
    """One append-only wallet movement; ``amount`` is signed (debits are negative)."""

    __tablename__ = "tx_ledger_entry"
    __table_args__ = (
        UniqueConstraint("reference"),
        Index("ix_tx_ledger_entry_customer_order", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    balance_after: Mapped[Decimal] = mapped_column(Money, nullable=False)
    # Globally unique: "topup:<payment ref>", "debit:<purchase id>", "refund:<purchase id>".
    reference: Mapped[str] = mapped_column(String(200), nullable=False)
    purchase_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class Purchase(TransactionsBase):
    """A token purchase with every receipt field, as quoted by master and answered by the biller."""

    __tablename__ = "tx_purchase"
    __table_args__ = (
        UniqueConstraint("customer_id", "client_reference"),
        UniqueConstraint("channel_reference"),
        Index("ix_tx_purchase_customer_order", "customer_id", "created_at", "id"),
        Index("ix_tx_purchase_meter_order", "meter_number", "created_at", "id"),
        Index("ix_tx_purchase_meter_month", "meter_number", "usage_month"),
        Index("ix_tx_purchase_settle", "status", "settle_after"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_purchase_id)
    customer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    client_reference: Mapped[str] = mapped_column(String(64), nullable=False)
    channel_reference: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=PurchaseStatus.PENDING.value)

    meter_number: Mapped[str] = mapped_column(String(11), nullable=False)
    idpel: Mapped[str] = mapped_column(String(12), nullable=False)
    holder_name: Mapped[str] = mapped_column(String(200), nullable=False)
    tariff_code: Mapped[str] = mapped_column(String(10), nullable=False)
    power_va: Mapped[int] = mapped_column(BigInteger, nullable=False)
    channel: Mapped[str] = mapped_column(String(40), nullable=False)

    denomination: Mapped[Decimal] = mapped_column(Money, nullable=False)
    nominal: Mapped[Decimal] = mapped_column(Money, nullable=False)
    admin_fee: Mapped[Decimal] = mapped_column(Money, nullable=False)
    stamp_duty: Mapped[Decimal] = mapped_column(Money, nullable=False)
    ppn: Mapped[Decimal] = mapped_column(Money, nullable=False)
    ppj: Mapped[Decimal] = mapped_column(Money, nullable=False)
    instalment: Mapped[Decimal] = mapped_column(Money, nullable=False)
    energy_value: Mapped[Decimal] = mapped_column(Money, nullable=False)
    kwh_tenths: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_paid: Mapped[Decimal] = mapped_column(Money, nullable=False)

    # "YYYY-MM" of created_at in Asia/Jakarta (UTC+7): the month the monthly kWh cap counts it in.
    usage_month: Mapped[str] = mapped_column(String(7), nullable=False)

    token: Mapped[str | None] = mapped_column(String(20), nullable=True)
    biller_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    biller_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    biller_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The key change pair sold with the token ("1st 2nd"), entered before it; NULL when none.
    key_change_tokens: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Instalment debt still owed after this purchase (NULL on purchases made before instalments were paid down).
    instalment_debt_left: Mapped[Decimal | None] = mapped_column(Money, nullable=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)

    # The settlement worker's row lease and backoff: a PENDING purchase is not tried again before
    # ``settle_after`` (NULL: at once); ``settle_attempts`` counts the worker's tries.
    settle_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    settle_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")

    @property
    def kwh(self) -> Decimal:
        return (Decimal(self.kwh_tenths) / 10).quantize(Decimal("0.1"))


class MeterMonthUsage(TransactionsBase):
    """kWh of a meter's SUCCESS + PENDING purchases in one Jakarta calendar month.

    Kept in the purchase's own transaction; the cap check is one conditional UPDATE of this row,
    so two concurrent purchases cannot both pass (the row write serialises them on PostgreSQL).
    """

    __tablename__ = "tx_meter_month_usage"
    __table_args__ = (CheckConstraint("kwh_tenths >= 0", name="kwh_not_negative"),)

    meter_number: Mapped[str] = mapped_column(String(11), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    kwh_tenths: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    power_va: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class MeterInstalment(TransactionsBase):
    """Instalment paid towards a meter's debt by its SUCCESS and PENDING purchases (master registers
    the debt and the amount per purchase; the seller counts what was paid). Written in the purchase's
    own transaction with one conditional upsert, given back with the refund of a failed purchase."""

    __tablename__ = "tx_meter_instalment"
    __table_args__ = (CheckConstraint("paid >= 0", name="paid_not_negative"),)

    meter_number: Mapped[str] = mapped_column(String(11), primary_key=True)
    paid: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class ManagementTokenRecord(TransactionsBase):
    """A management token the biller issued at an operator's request, kept so support can list them.

    The biller is the system of record for TIDs; this is our audit trail of who asked for what.
    """

    __tablename__ = "tx_management_token"
    __table_args__ = (Index("ix_tx_management_token_meter_order", "meter_number", "issued_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meter_number: Mapped[str] = mapped_column(String(11), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    token: Mapped[str] = mapped_column(String(20), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The viewer's subject: an admin's customer id, or a service name.
    issued_by: Mapped[str] = mapped_column(String(64), nullable=False)


class TopUpMethod(str, enum.Enum):
    VIRTUAL_ACCOUNT = "VIRTUAL_ACCOUNT"
    QRIS = "QRIS"


class TopUpStatus(str, enum.Enum):
    PENDING = "PENDING"  # waiting for the payment (EXPIRED once expires_at has passed; computed, not stored)
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"  # the provider could not open it; nothing can be paid


class TopUp(TransactionsBase):
    """A customer's top-up intent: the provider's payment instructions for an amount, until an expiry."""

    __tablename__ = "tx_top_up"
    __table_args__ = (
        UniqueConstraint("provider_intent_id"),
        Index("ix_tx_top_up_customer_order", "customer_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_purchase_id)
    customer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    provider_intent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    bank_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    va_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    qris_payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class TopUpPayment(TransactionsBase):
    """A payment the provider notified and we credited: one per provider payment id and per top-up,
    written in the same transaction as its TOPUP ledger entry (``ledger_reference``)."""

    __tablename__ = "tx_top_up_payment"
    __table_args__ = (UniqueConstraint("top_up_id"), UniqueConstraint("ledger_reference"))

    provider_payment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    top_up_id: Mapped[str] = mapped_column(String(36), nullable=False)
    customer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    ledger_reference: Mapped[str] = mapped_column(String(200), nullable=False)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    credited_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class PaymentDelivery(TransactionsBase):
    """Each notification delivery id seen, so a captured notification sent again is refused as a replay."""

    __tablename__ = "tx_payment_delivery"

    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class WalletAdjustment(TransactionsBase):
    """The audit log of admins' wallet adjustments (topUpWallet by an admin): who, whom, how much, why."""

    __tablename__ = "tx_wallet_adjustment"
    __table_args__ = (
        UniqueConstraint("ledger_reference"),
        Index("ix_tx_wallet_adjustment_customer_order", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    admin_id: Mapped[str] = mapped_column(String(64), nullable=False)
    ledger_reference: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
