"""Tables of the users subgraph (prefixed ``users_``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, MetaData, String
from sqlalchemy.orm import Mapped, mapped_column

from setrum_common import db
from setrum_common.column_types import UTCDateTime

__all__ = ["UsersBase", "Customer", "SigninAttempt", "UTCDateTime"]


class UsersBase(db.Base):
    __abstract__ = True
    metadata = MetaData(naming_convention=db.NAMING_CONVENTION)


class Customer(UsersBase):
    """A person who buys tokens (or an administrator). ``email`` is stored normalised."""

    __tablename__ = "users_customer"
    __table_args__ = (
        # The rule "one account per email, case-insensitively" lives in the database, so two
        # concurrent sign-ups cannot both pass an application-level check.
        Index("uq_users_customer_email", "email", unique=True),
        Index("ix_users_customer_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    role: Mapped[str] = mapped_column(String(16), default="CUSTOMER")
    password_hash: Mapped[str] = mapped_column(String(255))
    # Revocation (setrum_common.sessions): tokens carry the version they were issued under.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kept_session: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SigninAttempt(UsersBase):
    """Sign-in attempts per (normalised email, client IP) in the current throttling window.

    Keyed by the pair, not the email alone: failures from one address throttle that address for
    that email, so an attacker elsewhere cannot lock the owner out (the router's per-IP rule
    bounds how many emails one address may try).

    Kept in the database, not in process memory, so every replica sees the same count. A row is
    changed only by one atomic upsert (``INSERT … ON CONFLICT DO UPDATE … RETURNING``) and deleted
    by a successful sign-in or, once its window has expired, by a later attempt's housekeeping.
    """

    __tablename__ = "users_signin_attempt"
    __table_args__ = (Index("ix_users_signin_attempt_window_started_at", "window_started_at"),)

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    client_ip: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
