"""Customer storage: async functions over an ``AsyncSession``; no business rules, no GraphQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from setrum_common.db import rowcount

from .models import Customer, SigninAttempt, UTCDateTime

__all__ = [
    "add_customer",
    "clear_signin_attempts",
    "count_signin_attempt",
    "count_customers",
    "customers_by_ids",
    "get_customer",
    "get_customer_by_email",
    "get_customer_for_update",
    "is_email_conflict",
    "list_customers",
    "replace_password_hash",
    "revoke_sessions",
    "session_state",
]


async def get_customer(session: AsyncSession, customer_id: str) -> Customer | None:
    return await session.get(Customer, customer_id)


async def get_customer_for_update(session: AsyncSession, customer_id: str) -> Customer | None:
    """Row-locked on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already serialises writers)."""
    result = await session.execute(select(Customer).where(Customer.id == customer_id).with_for_update())
    return result.scalar_one_or_none()


async def get_customer_by_email(session: AsyncSession, email: str) -> Customer | None:
    """``email`` must already be normalised."""
    result = await session.execute(select(Customer).where(Customer.email == email))
    return result.scalar_one_or_none()


async def customers_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Customer]:
    """One ``SELECT … WHERE id IN (…)`` for any number of ids."""
    if not ids:
        return {}
    result = await session.execute(select(Customer).where(Customer.id.in_(set(ids))))
    return {customer.id: customer for customer in result.scalars()}


async def list_customers(
    session: AsyncSession, *, limit: int, after: tuple[datetime, str] | None = None
) -> list[Customer]:
    """Customers in sign-up order, keyset-paginated on ``(created_at, id)``."""
    query = select(Customer).order_by(Customer.created_at, Customer.id).limit(limit)
    if after is not None:
        created_at, customer_id = after
        query = query.where(
            or_(
                Customer.created_at > created_at,
                and_(Customer.created_at == created_at, Customer.id > customer_id),
            )
        )
    result = await session.execute(query)
    return list(result.scalars())


async def count_customers(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Customer))).scalar_one())


def add_customer(session: AsyncSession, customer: Customer) -> Customer:
    """Stage a new customer; the unique email index is checked when the session flushes."""
    session.add(customer)
    return customer


async def replace_password_hash(
    session: AsyncSession, customer_id: str, *, old_hash: str, new_hash: str, now: datetime
) -> bool:
    """Compare-and-set, so a rehash never overwrites a password changed in the meantime."""
    result = await session.execute(
        update(Customer)
        .where(Customer.id == customer_id, Customer.password_hash == old_hash)
        .values(password_hash=new_hash, updated_at=now)
    )
    return bool(rowcount(result))


_SESSION_STATE = select(Customer.session_version, Customer.kept_session).where(Customer.id == bindparam("sess_id"))


def session_state(conn: Connection, customer_id: str) -> tuple[int, str | None] | None:
    """(session version, kept session id), or None for an unknown customer. Synchronous, for
    :meth:`Database.run` with ``one_statement``: asked on every customer request (when not cached),
    so one round trip, without BEGIN/ROLLBACK around it on PostgreSQL."""
    row = conn.execute(_SESSION_STATE, {"sess_id": customer_id}).first()
    return None if row is None else (int(row[0]), row[1])


async def revoke_sessions(session: AsyncSession, customer_id: str, *, keep: str | None, now: datetime) -> None:
    """Raise the session version (every earlier token fails); ``keep`` survives it (or None)."""
    await session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(session_version=Customer.session_version + 1, kept_session=keep, updated_at=now)
    )


def is_email_conflict(error: Exception) -> bool:
    """Whether an ``IntegrityError`` comes from the unique email index (SQLite and PostgreSQL wording)."""
    text = str(getattr(error, "orig", error)).lower()
    return "uq_users_customer_email" in text or "users_customer.email" in text


async def count_signin_attempt(
    session: AsyncSession, email: str, client_ip: str, *, now: datetime, window_cutoff: datetime
) -> tuple[int, datetime]:
    """Count one sign-in attempt for (``email``, ``client_ip``) in ONE statement; returns
    (attempts, window start).

    A window that started at or before ``window_cutoff`` has expired and restarts at ``now``
    with this attempt. The upsert is atomic on SQLite and PostgreSQL alike (the row is locked
    by the conflicting insert), so concurrent attempts on any replica each get their own count.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = SigninAttempt.__table__
    now_value = literal(now, UTCDateTime())
    expired = table.c.window_started_at <= window_cutoff
    statement = (
        insert(table)
        .values(email=email, client_ip=client_ip, attempts=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.email, table.c.client_ip],
            # Both right-hand sides read the row as it was before this update.
            set_={
                "attempts": case((expired, 1), else_=table.c.attempts + 1),
                "window_started_at": case((expired, now_value), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.attempts, table.c.window_started_at)
    )
    attempts, started = (await session.execute(statement)).one()
    return int(attempts), started


async def clear_signin_attempts(session: AsyncSession, email: str, client_ip: str) -> None:
    await session.execute(
        delete(SigninAttempt).where(SigninAttempt.email == email, SigninAttempt.client_ip == client_ip)
    )


async def forget_expired_signin_attempts(session: AsyncSession, *, window_cutoff: datetime, limit: int = 100) -> int:
    """Delete up to ``limit`` counters whose window has expired (emails nobody tried again), so the
    table holds about the emails with failures in the current window; returns how many went."""
    table = SigninAttempt.__table__
    stale = select(table.c.window_started_at).where(table.c.window_started_at <= window_cutoff)
    oldest = stale.order_by(table.c.window_started_at).limit(1).offset(limit - 1).scalar_subquery()
    # Up to ``limit`` rows (more only on ties of the cut-off timestamp), without a composite IN.
    bound = func.coalesce(oldest, window_cutoff)
    result = await session.execute(delete(table).where(table.c.window_started_at <= bound))
    return rowcount(result)
