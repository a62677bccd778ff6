"""The biller's own tables: the meter register, issued purchases, management tokens and key change orders.

The register holds only the *public* key parameters of each meter; decoder keys are derived
on demand from the vending key, which never touches the database. ``last_tid`` lives on the
meter row so the row lock that serialises token issue for a meter also guards its TID.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, MetaData, String, func
from sqlalchemy.orm import Mapped, mapped_column

from setrum_common.column_types import UTCDateTime
from setrum_common.db import NAMING_CONVENTION
from setrum_common.db import Base as _Base

__all__ = [
    "BillerBase",
    "BillerKeyChangeOrder",
    "BillerManagementToken",
    "BillerMeter",
    "BillerPurchase",
    "BillerPurchaseStatus",
]


class BillerBase(_Base):
    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class BillerPurchaseStatus:
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class BillerMeter(BillerBase):
    __tablename__ = "biller_meter"

    number: Mapped[str] = mapped_column(String(11), primary_key=True)
    iin: Mapped[str] = mapped_column(String(6))
    supply_group_code: Mapped[str] = mapped_column(String(6))
    tariff_index: Mapped[str] = mapped_column(String(2))
    key_type: Mapped[int] = mapped_column(Integer)
    key_revision: Mapped[int] = mapped_column(Integer)
    base_date: Mapped[int] = mapped_column(Integer)  # 1993 or 2014
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")  # ACTIVE | BLOCKED
    # PLN's tariff class and power of the connection: what the biller prices a sale's energy with.
    tariff_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    power_va: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_tid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A key change the utility has ordered (new key revision, supply group or tariff index): the
    # next sale carries the key change tokens. NULL = none ordered (a base date rollover needs none).
    new_key_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    new_supply_group_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    new_tariff_index: Mapped[str | None] = mapped_column(String(2), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now(), onupdate=func.now())


class BillerPurchase(BillerBase):
    __tablename__ = "biller_purchase"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    biller_reference: Mapped[str] = mapped_column(String(32), unique=True)
    meter_number: Mapped[str] = mapped_column(String(32), index=True)
    kwh_tenths: Mapped[int] = mapped_column(Integer)  # as requested
    amount: Mapped[str] = mapped_column(String(32))  # decimal string, compared exactly on replay
    status: Mapped[str] = mapped_column(String(16))
    token: Mapped[str | None] = mapped_column(String(24), nullable=True)
    tid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    carried_tenths: Mapped[int | None] = mapped_column(Integer, nullable=True)  # what the token carries
    # The key change pair sold with this token ("1st 2nd", formatted), to be entered before it.
    key_change_tokens: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pending_answers_left: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BillerManagementToken(BillerBase):
    __tablename__ = "biller_management_token"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # The caller's request reference: a retry answers the stored token (NULL: issued before references).
    reference: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    meter_number: Mapped[str] = mapped_column(String(11), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    token: Mapped[str] = mapped_column(String(24))
    tid: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BillerKeyChangeOrder(BillerBase):
    """One key change order by its request reference: a retried order changes nothing again."""

    __tablename__ = "biller_key_change_order"

    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    meter_number: Mapped[str] = mapped_column(String(11))
    key_revision: Mapped[int] = mapped_column(Integer)
    supply_group_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    tariff_index: Mapped[str | None] = mapped_column(String(2), nullable=True)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
