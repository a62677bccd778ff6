"""Sign-up and sign-in.

Repeated sign-in failures are throttled per (normalised email, client address) through the
database (:mod:`..throttle`), so the limit holds across replicas and nobody can lock another
customer out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from setrum_common.auth import Role, issue_customer_token
from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository
from ..models import Customer
from ..passwords import Passwords
from ..settings import UsersSettings
from ..throttle import SigninThrottle
from ..tokens import token_signer
from .inputs import check_password, duplicate_email, normalize_email, normalize_name, normalize_phone

__all__ = ["AuthResult", "sign_in", "sign_up"]

_INVALID_CREDENTIALS = "Email or password is incorrect"


@dataclass(frozen=True, slots=True)
class AuthResult:
    token: str
    expires_at: datetime
    customer: Customer


def _issue(settings: UsersSettings, customer: Customer) -> AuthResult:
    signer = token_signer(settings)
    token, expires_at = issue_customer_token(
        signer.key,
        customer.id,
        Role(customer.role),
        ttl=settings.token_ttl,
        session_version=customer.session_version or 0,
        algorithm=signer.algorithm,
        key_id=signer.key_id,
    )
    return AuthResult(token=token, expires_at=expires_at, customer=customer)


async def sign_up(
    db: Database,
    passwords: Passwords,
    settings: UsersSettings,
    *,
    name: str,
    email: str,
    password: str,
    phone: str | None = None,
    client_ip: str | None = None,
) -> AuthResult:
    name = normalize_name(name)
    email = normalize_email(email)
    phone = normalize_phone(phone)
    check_password(password, email)
    # A cheap early answer; the unique index below is what actually guarantees uniqueness.
    async with db.session() as session:
        if await repository.get_customer_by_email(session, email) is not None:
            raise duplicate_email()
    # Outside the transaction: no lock held while hashing.
    password_hash = await passwords.hash(password, client=client_ip)
    now = utc_now()
    customer = Customer(
        id=str(uuid.uuid4()),
        name=name,
        email=email,
        phone=phone,
        role=Role.CUSTOMER.value,
        password_hash=password_hash,
        session_version=0,
        created_at=now,
        updated_at=now,
    )
    try:
        async with db.transaction(write=True) as session:
            repository.add_customer(session, customer)
            await session.flush()
    except IntegrityError as error:
        if repository.is_email_conflict(error):
            raise duplicate_email() from None
        raise
    return _issue(settings, customer)


async def sign_in(
    db: Database,
    passwords: Passwords,
    settings: UsersSettings,
    *,
    email: str,
    password: str,
    throttle: SigninThrottle | None = None,
    client_ip: str = "unknown",
) -> AuthResult:
    """Same error and (roughly) the same time for an unknown email and a wrong password.

    Too many attempts for one email from one client address in the throttling window ->
    ``TOO_MANY_ATTEMPTS`` with ``extensions.retryAfterSeconds``, before any password is checked;
    a full hashing queue -> ``RATE_LIMITED`` or ``OVERLOADED`` (see :mod:`..passwords`)."""
    throttle = throttle or SigninThrottle.from_settings(settings)
    try:
        normalised: str | None = normalize_email(email)
    except DomainError:
        normalised = None
    customer = None
    if normalised is not None:
        await throttle.admit(db, normalised, client_ip)
        async with db.session() as session:
            customer = await repository.get_customer_by_email(session, normalised)
    if customer is None:
        await passwords.burn(password, client=client_ip)
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, _INVALID_CREDENTIALS)
    if not await passwords.verify(customer.password_hash, password, client=client_ip):
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, _INVALID_CREDENTIALS)
    if passwords.needs_rehash(customer.password_hash):
        new_hash = await passwords.hash(password, client=client_ip)
        async with db.transaction(write=True) as session:
            if await repository.replace_password_hash(
                session, customer.id, old_hash=customer.password_hash, new_hash=new_hash, now=utc_now()
            ):
                customer.password_hash = new_hash
    assert normalised is not None  # a customer was found by it
    await throttle.succeeded(db, normalised, client_ip)
    return _issue(settings, customer)
