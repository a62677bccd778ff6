"""Tables of the master subgraph (all prefixed ``master_``).

Money and rates are stored as scaled integers (:class:`ScaledDecimal`): exact on SQLite and
PostgreSQL alike (SQLite has no decimal type and would round-trip NUMERIC through float), and
still comparable in SQL. Timestamps are :class:`UTCDateTime` (``timestamptz`` on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from setrum_common import db
from setrum_common.clock import utc_now
from setrum_common.column_types import ScaledDecimal, UTCDateTime

__all__ = [
    "split_tariff_classes",
    "MasterBase",
    "Channel",
    "Denomination",
    "Meter",
    "PpjRule",
    "Region",
    "SavedMeter",
    "ScaledDecimal",
    "StampDutyRule",
    "Tariff",
    "UTCDateTime",
]


def Money() -> ScaledDecimal:  # capitalised: reads like a column type
    return ScaledDecimal(2)


def Rate() -> ScaledDecimal:
    return ScaledDecimal(6)


class MasterBase(db.Base):
    __abstract__ = True
    metadata = MetaData(naming_convention=db.NAMING_CONVENTION)


class Region(MasterBase):
    __tablename__ = "master_region"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


def split_tariff_classes(text: str) -> tuple[str, ...]:
    """A PPJ rule's tariff classes, stored comma-separated ("" = every class)."""
    return tuple(c for c in text.split(",") if c)


class PpjRule(MasterBase):
    """A PPJ rate for a region, optionally narrowed to tariff classes and a VA band (inclusive)."""

    __tablename__ = "master_ppj_rule"
    __table_args__ = (
        CheckConstraint("rate >= 0 AND rate <= 100000", name="rate_range"),
        Index("ix_master_ppj_rule_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("master_region.code", ondelete="CASCADE"))
    rate: Mapped[Decimal] = mapped_column(Rate())
    # Comma-separated tariff codes; empty means "any class".
    tariff_classes: Mapped[str] = mapped_column(String(200), default="")
    min_va: Mapped[int] = mapped_column(BigInteger, default=0)
    max_va: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def classes(self) -> tuple[str, ...]:
        return split_tariff_classes(self.tariff_classes)


class Tariff(MasterBase):
    """One effective-dated version of the Rp/kWh rate of a tariff class and power band."""

    __tablename__ = "master_tariff"
    __table_args__ = (
        UniqueConstraint("code", "min_va", "effective_from"),
        CheckConstraint("rate > 0", name="rate_positive"),
        Index("ix_master_tariff_code_band", "code", "min_va"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(200), default="")
    min_va: Mapped[int] = mapped_column(BigInteger, default=0)
    max_va: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    rate: Mapped[Decimal] = mapped_column(Money())
    ppn_rate: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Meter(MasterBase):
    __tablename__ = "master_meter"

    number: Mapped[str] = mapped_column(String(11), primary_key=True)
    idpel: Mapped[str] = mapped_column(String(12), unique=True)
    holder_name: Mapped[str] = mapped_column(String(120))
    # The tariff code of the meter record; never derived from the VA (docs/domain.md §Identifiers).
    tariff_code: Mapped[str] = mapped_column(String(16))
    power_va: Mapped[int] = mapped_column(BigInteger)
    region_code: Mapped[str] = mapped_column(ForeignKey("master_region.code"))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    # Instalments (docs/domain.md §Instalments): ``instalment`` is taken from each purchase until the
    # registered ``instalment_debt`` is paid (the paid part is counted by transactions, which sells).
    instalment: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    # The server default lets migration 0002 add the column without rebuilding the table, which on
    # SQLite would break the saved meters' foreign key.
    instalment_debt: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"), server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)


class Denomination(MasterBase):
    __tablename__ = "master_denomination"

    amount: Mapped[Decimal] = mapped_column(Money(), primary_key=True, autoincrement=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Channel(MasterBase):
    """A sales channel and the admin fee it charges on top of the nominal."""

    __tablename__ = "master_channel"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    admin_fee: Mapped[Decimal] = mapped_column(Money())


class StampDutyRule(MasterBase):
    """The one stamp-duty rule (id 1): ``amount`` on purchases above ``threshold``."""

    __tablename__ = "master_stamp_duty_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    threshold: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())


class SavedMeter(MasterBase):
    __tablename__ = "master_saved_meter"
    __table_args__ = (UniqueConstraint("customer_id", "meter_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    meter_number: Mapped[str] = mapped_column(ForeignKey("master_meter.number"))
    alias: Mapped[str | None] = mapped_column(String(60), nullable=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
