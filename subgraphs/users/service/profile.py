"""A signed-in customer changing their own profile or password."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import IntegrityError

from setrum_common.auth import Viewer
from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository
from ..models import Customer
from ..passwords import Passwords
from .inputs import check_password, duplicate_email, normalize_email, normalize_name, normalize_phone

__all__ = ["KEEP", "ProfileChanges", "update_profile"]


class _Keep(enum.Enum):
    KEEP = "KEEP"


KEEP: Final = _Keep.KEEP  # "leave this field as it is" in ProfileChanges


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Fields left as :data:`KEEP` are not touched; ``phone=None`` clears the phone."""

    name: str | _Keep = KEEP
    email: str | _Keep = KEEP
    phone: str | _Keep | None = KEEP
    current_password: str | None = None
    new_password: str | None = None


async def _check_current_password(
    passwords: Passwords, current: Customer, changes: ProfileChanges, email: str | _Keep
) -> str:
    """The stored hash the current password matched (the write re-checks it is still the same)."""
    if not changes.current_password:
        what = "a new password" if changes.new_password is not None else "a new email"
        message = f"Give your current password to set {what}"
        raise DomainError(ErrorCode.BAD_USER_INPUT, message, field="currentPassword")
    if changes.new_password is not None:
        check_password(changes.new_password, email if email is not KEEP else current.email)
    if not await passwords.verify(current.password_hash, changes.current_password):
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "Current password is incorrect")
    return current.password_hash


async def update_profile(db: Database, passwords: Passwords, viewer: Viewer, changes: ProfileChanges) -> Customer:
    viewer.require_authenticated()
    customer_id = viewer.customer_id
    if customer_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only a signed-in customer can change their profile")
    name = normalize_name(changes.name) if changes.name is not KEEP else KEEP
    email = normalize_email(changes.email) if changes.email is not KEEP else KEEP
    phone = normalize_phone(changes.phone) if changes.phone is not KEEP else KEEP

    async with db.session() as session:
        current = await repository.get_customer(session, customer_id)
    if current is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists")

    # Email and password are what take over an account: both need the current password.
    verified_hash: str | None = None
    new_hash: str | None = None
    if (email is not KEEP and email != current.email) or changes.new_password is not None:
        verified_hash = await _check_current_password(passwords, current, changes, email)
        if changes.new_password is not None:
            new_hash = await passwords.hash(changes.new_password)

    try:
        async with db.transaction(write=True) as session:
            customer = await repository.get_customer_for_update(session, customer_id)
            if customer is None:
                raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists")
            if verified_hash is not None and customer.password_hash != verified_hash:
                # The password changed between our check and this write: the check proves nothing now.
                raise DomainError(ErrorCode.INVALID_CREDENTIALS, "Your password was just changed; try again")
            if name is not KEEP:
                customer.name = name
            if email is not KEEP:
                customer.email = email
            if phone is not KEEP:
                customer.phone = phone
            if new_hash is not None:
                customer.password_hash = new_hash
                # Every other session ends; the one that made the change stays signed in.
                customer.session_version += 1
                customer.kept_session = viewer.session_id
            customer.updated_at = utc_now()
            await session.flush()
    except IntegrityError as error:
        if repository.is_email_conflict(error):
            raise duplicate_email() from None
        raise
    return customer
