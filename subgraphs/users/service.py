"""Business rules of the users subgraph: sign-up, sign-in, profile changes and who may see whom.

Every function takes its collaborators (database, password hasher, settings, viewer) explicitly
and raises :class:`~setrum_common.errors.DomainError` with a stable code on bad input.

Repeated sign-in failures are throttled per normalised email through the database
(:mod:`.throttle`), so the limit holds across replicas.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.exc import IntegrityError

from setrum_common.auth import Role, Viewer, issue_customer_token
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from . import repository
from .models import Customer
from .passwords import Passwords, password_weaknesses
from .settings import Settings
from .throttle import SigninThrottle
from .validation import normalize_email, normalize_name, normalize_phone, parse_customer_id

__all__ = [
    "AuthResult",
    "KEEP",
    "MAX_PAGE_SIZE",
    "ProfileChanges",
    "customer_for_viewer",
    "customers_page",
    "load_customers",
    "sign_in",
    "sign_up",
    "update_profile",
    "viewer_customer",
]

MAX_PAGE_SIZE = 100
_INVALID_CREDENTIALS = "Email or password is incorrect"


class _Keep(enum.Enum):
    KEEP = "KEEP"


KEEP: Final = _Keep.KEEP  # "leave this field as it is" in ProfileChanges


@dataclass(frozen=True, slots=True)
class AuthResult:
    token: str
    expires_at: datetime
    customer: Customer


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Fields left as :data:`KEEP` are not touched; ``phone=None`` clears the phone."""

    name: str | _Keep = KEEP
    email: str | _Keep = KEEP
    phone: str | _Keep | None = KEEP
    current_password: str | None = None
    new_password: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _duplicate_email() -> DomainError:
    return DomainError(ErrorCode.DUPLICATE_EMAIL, "An account with this email address already exists")


def _check_password(password: str, email: str) -> None:
    reasons = password_weaknesses(password, email)
    if reasons:
        raise DomainError(
            ErrorCode.WEAK_PASSWORD, "Password is too weak: it " + "; it ".join(reasons), reasons=reasons
        )


def _issue(settings: Settings, customer: Customer) -> AuthResult:
    token, expires_at = issue_customer_token(
        settings.jwt_secret.get_secret_value(), customer.id, Role(customer.role), ttl=settings.token_ttl
    )
    return AuthResult(token=token, expires_at=expires_at, customer=customer)


async def sign_up(
    db: Database,
    passwords: Passwords,
    settings: Settings,
    *,
    name: str,
    email: str,
    password: str,
    phone: str | None = None,
) -> AuthResult:
    name = normalize_name(name)
    email = normalize_email(email)
    phone = normalize_phone(phone)
    _check_password(password, email)
    # A cheap early answer; the unique index below is what actually guarantees uniqueness.
    async with db.session() as session:
        if await repository.get_customer_by_email(session, email) is not None:
            raise _duplicate_email()
    password_hash = await passwords.hash(password)  # outside the transaction: no lock held while hashing
    now = _now()
    customer = Customer(
        id=str(uuid.uuid4()),
        name=name,
        email=email,
        phone=phone,
        role=Role.CUSTOMER.value,
        password_hash=password_hash,
        created_at=now,
        updated_at=now,
    )
    try:
        async with db.transaction(write=True) as session:
            repository.add_customer(session, customer)
            await session.flush()
    except IntegrityError as error:
        if repository.is_email_conflict(error):
            raise _duplicate_email() from None
        raise
    return _issue(settings, customer)


async def sign_in(
    db: Database,
    passwords: Passwords,
    settings: Settings,
    *,
    email: str,
    password: str,
    throttle: SigninThrottle | None = None,
) -> AuthResult:
    """Same error and (roughly) the same time for an unknown email and a wrong password.

    Too many attempts for one email in the throttling window -> ``TOO_MANY_ATTEMPTS`` with
    ``extensions.retryAfterSeconds``, before any password is checked."""
    throttle = throttle or SigninThrottle.from_settings(settings)
    try:
        normalised: str | None = normalize_email(email)
    except DomainError:
        normalised = None
    customer = None
    if normalised is not None:
        await throttle.admit(db, normalised)
        async with db.session() as session:
            customer = await repository.get_customer_by_email(session, normalised)
    if customer is None:
        await passwords.burn(password)
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, _INVALID_CREDENTIALS)
    if not await passwords.verify(customer.password_hash, password):
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, _INVALID_CREDENTIALS)
    if passwords.needs_rehash(customer.password_hash):
        new_hash = await passwords.hash(password)
        async with db.transaction(write=True) as session:
            if await repository.replace_password_hash(
                session, customer.id, old_hash=customer.password_hash, new_hash=new_hash, now=_now()
            ):
                customer.password_hash = new_hash
    assert normalised is not None  # a customer was found by it
    await throttle.succeeded(db, normalised)
    return _issue(settings, customer)


async def viewer_customer(db: Database, viewer: Viewer) -> Customer | None:
    """The signed-in customer, or ``None`` for anonymous callers and services."""
    customer_id = viewer.customer_id
    if customer_id is None:
        return None
    async with db.session() as session:
        return await repository.get_customer(session, customer_id)


async def customer_for_viewer(db: Database, viewer: Viewer, customer_id: str) -> Customer:
    """A customer sees only themselves (FORBIDDEN otherwise, whether or not the id exists)."""
    viewer.require_customer_access(customer_id)
    canonical = parse_customer_id(customer_id)
    customer = None
    if canonical is not None:
        async with db.session() as session:
            customer = await repository.get_customer(session, canonical)
    if customer is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"No customer with id '{customer_id[:64]}'")
    return customer


async def customers_page(db: Database, viewer: Viewer, *, first: int, after: str | None) -> list[Customer]:
    """Admins page through customers in sign-up order; ``after`` is the last id of the previous page."""
    viewer.require_admin()
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"'first' must be between 1 and {MAX_PAGE_SIZE}")
    async with db.session() as session:
        position = None
        if after is not None:
            canonical = parse_customer_id(after)
            anchor = await repository.get_customer(session, canonical) if canonical else None
            if anchor is None:
                raise DomainError(ErrorCode.BAD_USER_INPUT, "'after' must be the id of a customer from a previous page")
            position = (anchor.created_at, anchor.id)
        return await repository.list_customers(session, limit=first, after=position)


async def load_customers(db: Database, ids: Sequence[str]) -> list[Customer | None]:
    """Customers for ``ids`` in the same order (``None`` where unknown), with one query."""
    canonical = [parse_customer_id(i) for i in ids]
    async with db.session() as session:
        found = await repository.customers_by_ids(session, [c for c in canonical if c is not None])
    return [found.get(c) if c is not None else None for c in canonical]


async def update_profile(
    db: Database, passwords: Passwords, viewer: Viewer, changes: ProfileChanges
) -> Customer:
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

    verified_hash: str | None = None
    new_hash: str | None = None
    if changes.new_password is not None:
        if not changes.current_password:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT, "Give your current password to set a new one", field="currentPassword"
            )
        _check_password(changes.new_password, email if email is not KEEP else current.email)
        if not await passwords.verify(current.password_hash, changes.current_password):
            raise DomainError(ErrorCode.INVALID_CREDENTIALS, "Current password is incorrect")
        verified_hash = current.password_hash
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
            customer.updated_at = _now()
            await session.flush()
    except IntegrityError as error:
        if repository.is_email_conflict(error):
            raise _duplicate_email() from None
        raise
    return customer
