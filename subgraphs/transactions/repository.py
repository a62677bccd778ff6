"""Data access for wallets, the ledger, purchases and monthly usage (no business rules, no strawberry).

Every balance or usage change is a single conditional ``UPDATE`` (``… WHERE balance >= :amount``),
which is atomic on SQLite and PostgreSQL alike: no read-modify-write race can make a balance
negative or let two purchases slip past the monthly cap.

The purchase path writes with Core statements and ``RETURNING`` (SQLite >= 3.35 and PostgreSQL)
rather than ORM flushes, and its statements are built once, at import, with ``bindparam``s: building
a statement per call (operators, bind parameters, the cache key of every value) cost SQLAlchemy
more CPU than SQLite spends running it. Each then reuses its compiled form from the engine's cache.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from setrum_common.clock import utc_now
from setrum_common.db import rowcount

from .models import (
    HELD_STATUSES,
    LedgerEntry,
    LedgerKind,
    ManagementTokenRecord,
    MeterMonthUsage,
    Money,
    Purchase,
    PurchaseStatus,
    TopUpPayment,
    TransactionsBase,
    Wallet,
)

__all__ = [
    "WalletMismatch",
    "UsageMismatch",
    "insert_ignore",
    "ensure_wallet",
    "get_wallet",
    "wallets_by_customer",
    "credit_wallet",
    "find_ledger_entry",
    "list_ledger",
    "get_purchase",
    "purchases_by_ids",
    "Booking",
    "BookingRefused",
    "book_purchase",
    "purchase_id_by_client_reference",
    "purchase_by_id",
    "release_kwh",
    "transition_purchase",
    "record_success",
    "list_purchases",
    "usage_by_meter_month",
    "latest_power_va",
    "reconcile_wallets",
    "reconcile_usage",
    "PaymentMismatch",
    "reconcile_payments",
    "list_management_tokens",
    "move_to_review",
    "claim_due_purchases",
    "settle_later",
    "count_in_review",
]


def _upsert_builder(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def insert_ignore(session: AsyncSession, model: type[TransactionsBase], values: dict[str, Any]) -> None:
    """``INSERT … ON CONFLICT DO NOTHING``: create a row unless it already exists."""
    await session.execute(_upsert_builder(session)(model).values(**values).on_conflict_do_nothing())


# --- wallet and ledger ------------------------------------------------------------------------


async def ensure_wallet(session: AsyncSession, customer_id: str) -> None:
    now = utc_now()
    await insert_ignore(
        session,
        Wallet,
        {"customer_id": customer_id, "balance": Decimal(0), "currency": "IDR", "created_at": now, "updated_at": now},
    )


async def get_wallet(session: AsyncSession, customer_id: str) -> Wallet | None:
    return await session.get(Wallet, customer_id)


async def wallets_by_customer(session: AsyncSession, customer_ids: Sequence[str]) -> dict[str, Wallet]:
    rows = await session.scalars(select(Wallet).where(Wallet.customer_id.in_(list(customer_ids))))
    return {row.customer_id: row for row in rows}


_WALLETS = Wallet.__table__
_LEDGER = LedgerEntry.__table__
_DEBIT = (
    update(_WALLETS)
    .where(_WALLETS.c.customer_id == bindparam("debit_customer"), _WALLETS.c.balance >= bindparam("debit_amount"))
    .values(
        balance=_WALLETS.c.balance - bindparam("debit_amount", type_=_WALLETS.c.balance.type),
        updated_at=bindparam("debit_at", type_=_WALLETS.c.updated_at.type),
    )
    .returning(_WALLETS.c.balance)
)
_INSERT_LEDGER = insert(_LEDGER).returning(_LEDGER.c.id)  # executed with a whole row of parameters


def _ledger_row(
    customer_id: str,
    kind: LedgerKind,
    amount: Decimal,
    balance_after: Decimal,
    reference: str,
    purchase_id: str | None,
    at: datetime,
) -> dict[str, Any]:
    """The parameters of :data:`_INSERT_LEDGER` (every column but the generated id)."""
    return {
        "customer_id": customer_id,
        "kind": kind.value,
        "amount": amount,
        "balance_after": balance_after,
        "reference": reference,
        "purchase_id": purchase_id,
        "created_at": at,
    }


async def _current_balance(session: AsyncSession, customer_id: str) -> Decimal:
    balance = await session.scalar(
        select(Wallet.balance).where(Wallet.customer_id == customer_id).execution_options(populate_existing=True)
    )
    assert balance is not None
    return balance


async def _append(
    session: AsyncSession,
    *,
    customer_id: str,
    kind: LedgerKind,
    amount: Decimal,
    reference: str,
    purchase_id: str | None,
) -> LedgerEntry:
    """Insert the ledger entry with the balance it leaves (one Core INSERT … RETURNING id)."""
    balance = await _current_balance(session, customer_id)
    entry = _ledger_row(customer_id, kind, amount, balance, reference, purchase_id, utc_now())
    entry_id = (await session.execute(_INSERT_LEDGER, entry)).scalar_one()
    return LedgerEntry(id=entry_id, **entry)


async def credit_wallet(
    session: AsyncSession,
    customer_id: str,
    amount: Decimal,
    *,
    kind: LedgerKind,
    reference: str,
    purchase_id: str | None = None,
) -> LedgerEntry:
    """Add ``amount`` and its ledger entry; a reused ``reference`` raises IntegrityError (rolls back both)."""
    await ensure_wallet(session, customer_id)
    await session.execute(
        update(Wallet)
        .where(Wallet.customer_id == customer_id)
        .values(balance=Wallet.balance + amount, updated_at=utc_now())
    )
    return await _append(
        session, customer_id=customer_id, kind=kind, amount=amount, reference=reference, purchase_id=purchase_id
    )


async def find_ledger_entry(session: AsyncSession, reference: str) -> LedgerEntry | None:
    return await session.scalar(select(LedgerEntry).where(LedgerEntry.reference == reference))


async def list_ledger(
    session: AsyncSession, customer_id: str, *, first: int, before_id: int | None
) -> tuple[list[LedgerEntry], bool]:
    """Newest first; one extra row tells whether another page follows."""
    query = select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    rows = list(await session.scalars(query.order_by(LedgerEntry.id.desc()).limit(first + 1)))
    return rows[:first], len(rows) > first


# --- purchases ----------------------------------------------------------------------------------


async def get_purchase(session: AsyncSession, purchase_id: str) -> Purchase | None:
    return await session.scalar(
        select(Purchase).where(Purchase.id == purchase_id).execution_options(populate_existing=True)
    )


async def purchases_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Purchase]:
    rows = await session.scalars(select(Purchase).where(Purchase.id.in_(list(ids))))
    return {row.id: row for row in rows}


_PURCHASES = Purchase.__table__
_INSERT_PURCHASE = insert(_PURCHASES)  # executed with a whole row of parameters
_PURCHASE_COLUMNS = tuple(c.key for c in _PURCHASES.columns)


_REFERENCE_TAKEN = select(_PURCHASES.c.id).where(
    _PURCHASES.c.customer_id == bindparam("ref_customer"), _PURCHASES.c.client_reference == bindparam("ref_value")
)


def purchase_id_by_client_reference(conn: Connection, customer_id: str, client_reference: str) -> str | None:
    """The id of the customer's purchase under ``client_reference``, if any (one indexed read)."""
    result = conn.execute(_REFERENCE_TAKEN, {"ref_customer": customer_id, "ref_value": client_reference})
    return result.scalar_one_or_none()


_PURCHASE_BY_ID = select(Purchase).where(Purchase.id == bindparam("load_id"))


def _read_purchase(conn: Connection, statement: Any, params: dict[str, Any]) -> Purchase | None:
    """One ORM read on the caller's connection, for :meth:`Database.run` with ``one_statement``: no
    BEGIN/ROLLBACK around it (an ``AsyncSession`` opens a transaction). The purchase comes back
    detached with every column loaded."""
    with Session(bind=conn) as session:
        purchase: Purchase | None = session.scalar(statement, params)
        return purchase


def purchase_by_id(conn: Connection, purchase_id: str) -> Purchase | None:
    return _read_purchase(conn, _PURCHASE_BY_ID, {"load_id": purchase_id})


class Booking(enum.Enum):
    OVER_MONTHLY_CAP = "OVER_MONTHLY_CAP"
    BALANCE_TOO_LOW = "BALANCE_TOO_LOW"


class BookingRefused(Exception):
    """Raised by :func:`book_purchase` so that the caller's transaction rolls back."""

    def __init__(self, reason: Booking) -> None:
        super().__init__(reason.value)
        self.reason = reason


def book_purchase(conn: Connection, purchase: Purchase, limit_tenths: int) -> None:
    """The PENDING purchase, its kWh against the meter's month and the wallet debit with its ledger
    entry, in the caller's transaction. Order: purchase -> usage -> wallet, the same lock order as
    every other writer. A reused client reference raises ``IntegrityError`` at the first statement,
    before any money moves; over the cap or short of balance raises :class:`BookingRefused`.

    Synchronous, for :meth:`Database.run`: the four statements share one greenlet. On PostgreSQL
    they are ONE statement (:func:`_book_in_one`), the same writes in the same order, which fails as a
    whole when refused: atomic by itself, it may run without a transaction around it (``one_statement``)."""
    row = {key: getattr(purchase, key) for key in _PURCHASE_COLUMNS}
    if conn.dialect.name == "postgresql":
        _book_in_one(conn, purchase, row, limit_tenths)
        return
    conn.execute(_INSERT_PURCHASE, row)
    if purchase.kwh_tenths > limit_tenths:
        raise BookingRefused(Booking.OVER_MONTHLY_CAP)
    now = purchase.created_at
    usage = {
        "use_meter": purchase.meter_number,
        "use_month": purchase.usage_month,
        "use_kwh": purchase.kwh_tenths,
        "use_power": purchase.power_va,
        "use_at": now,
        "use_limit": limit_tenths,
    }
    if conn.execute(_RESERVE[conn.dialect.name], usage).first() is None:
        raise BookingRefused(Booking.OVER_MONTHLY_CAP)
    debit = {"debit_customer": purchase.customer_id, "debit_amount": purchase.total_paid, "debit_at": now}
    balance = conn.execute(_DEBIT, debit).scalar_one_or_none()
    if balance is None:
        raise BookingRefused(Booking.BALANCE_TOO_LOW)
    conn.execute(
        _INSERT_LEDGER,
        _ledger_row(
            purchase.customer_id,
            LedgerKind.PURCHASE_DEBIT,
            -purchase.total_paid,
            balance,
            f"debit:{purchase.id}",
            purchase.id,
            now,
        ),
    )


def _book_in_one(conn: Connection, purchase: Purchase, row: dict[str, Any], limit_tenths: int) -> None:
    """:func:`book_purchase` on PostgreSQL: one round trip instead of four (a purchase's statements go
    from eight to five). Each write reads the one before it, so they happen in the lock order of the
    four statements (purchase -> usage -> wallet -> ledger) and each happens only if the one before
    did; a reused client reference fails the first, as before. A refusal fails the statement itself
    (:data:`_REFUSED`), so nothing it wrote survives even in autocommit, and no BEGIN/COMMIT round trips
    are needed around it."""
    params = {
        **{f"bk_{key}": value for key, value in row.items()},
        "use_meter": purchase.meter_number,
        "use_month": purchase.usage_month,
        "use_kwh": purchase.kwh_tenths,
        "use_power": purchase.power_va,
        "use_at": purchase.created_at,
        "use_limit": limit_tenths,
        "debit_customer": purchase.customer_id,
        "debit_amount": purchase.total_paid,
        "debit_at": purchase.created_at,
        "led_amount": -purchase.total_paid,
        "led_reference": f"debit:{purchase.id}",
    }
    try:
        reserved, balance, _ = conn.execute(_BOOK_POSTGRESQL, params).one()
    except DBAPIError as error:
        for reason in Booking:
            if f"{_REFUSED}{reason.value}" in str(error.orig):
                raise BookingRefused(reason) from None
        raise
    if reserved is None:  # not reached: the statement fails instead (kept for safety)
        raise BookingRefused(Booking.OVER_MONTHLY_CAP)
    if balance is None:
        raise BookingRefused(Booking.BALANCE_TOO_LOW)


async def transition_purchase(
    session: AsyncSession,
    purchase_id: str,
    *,
    from_status: PurchaseStatus | tuple[str, ...],
    to_status: PurchaseStatus,
    **values: Any,
) -> bool:
    """Move a purchase between statuses iff it is still in ``from_status`` (so each move happens once)."""
    sources = (from_status.value,) if isinstance(from_status, PurchaseStatus) else from_status
    result = await session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.status.in_(sources))
        .values(status=to_status.value, updated_at=utc_now(), **values)
    )
    return rowcount(result) == 1


_SUCCEED = (
    update(_PURCHASES)
    .where(_PURCHASES.c.id == bindparam("ok_id"), _PURCHASES.c.status.in_(HELD_STATUSES))
    .values(
        status=PurchaseStatus.SUCCESS.value,
        **{
            name: bindparam(f"ok_{name}", type_=_PURCHASES.c[name].type)
            for name in (
                "token",
                "biller_reference",
                "biller_code",
                "biller_message",
                "issued_at",
                "updated_at",
                "key_change_tokens",
            )
        },
    )
)


def record_success(conn: Connection, purchase_id: str, values: dict[str, Any]) -> bool:
    """PENDING (or REVIEW) -> SUCCESS with the biller's answer (``token``, ``biller_reference``, ``biller_code``,
    ``biller_message``, ``issued_at``, ``updated_at``, ``key_change_tokens``), iff still held: True when this
    call moved it."""
    result = conn.execute(_SUCCEED, {"ok_id": purchase_id, **{f"ok_{k}": v for k, v in values.items()}})
    return result.rowcount == 1


async def list_purchases(
    session: AsyncSession,
    *,
    customer_id: str | None = None,
    meter_number: str | None = None,
    status: PurchaseStatus | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    first: int,
    after: tuple[datetime, str] | None = None,
    oldest_first: bool = False,
) -> tuple[list[Purchase], bool]:
    """Newest first by ``(created_at, id)`` (or oldest first, without ``after``); ``created_from`` inclusive,
    ``created_to`` exclusive."""
    query = select(Purchase)
    if customer_id is not None:
        query = query.where(Purchase.customer_id == customer_id)
    if meter_number is not None:
        query = query.where(Purchase.meter_number == meter_number)
    if status is not None:
        query = query.where(Purchase.status == status.value)
    if created_from is not None:
        query = query.where(Purchase.created_at >= created_from)
    if created_to is not None:
        query = query.where(Purchase.created_at < created_to)
    if after is not None:
        at, row_id = after
        query = query.where(or_(Purchase.created_at < at, and_(Purchase.created_at == at, Purchase.id < row_id)))
    order = (Purchase.created_at, Purchase.id) if oldest_first else (Purchase.created_at.desc(), Purchase.id.desc())
    query = query.order_by(*order).limit(first + 1)
    rows = list(await session.scalars(query))
    return rows[:first], len(rows) > first


# --- monthly usage ------------------------------------------------------------------------------


def _reserve_statement(builder: Any) -> Any:
    table = MeterMonthUsage.__table__
    kwh = bindparam("use_kwh", type_=table.c.kwh_tenths.type)
    power = bindparam("use_power", type_=table.c.power_va.type)
    at = bindparam("use_at", type_=table.c.updated_at.type)
    return (
        builder(table)
        .values(
            meter_number=bindparam("use_meter"),
            month=bindparam("use_month"),
            kwh_tenths=kwh,
            power_va=power,
            updated_at=at,
        )
        .on_conflict_do_update(
            index_elements=[table.c.meter_number, table.c.month],
            set_={"kwh_tenths": table.c.kwh_tenths + kwh, "power_va": power, "updated_at": at},
            where=table.c.kwh_tenths + kwh <= bindparam("use_limit", type_=table.c.kwh_tenths.type),
        )
        .returning(table.c.kwh_tenths)
    )


_RESERVE = {"sqlite": _reserve_statement(sqlite.insert), "postgresql": _reserve_statement(postgresql.insert)}


def _book_statement() -> Any:
    """PostgreSQL: the purchase row, the kWh reservation, the debit and its ledger entry as data-modifying
    CTEs, each reading the one before (so they run in this order, and only while each succeeds).
    Answers (kWh reserved or NULL when over the cap, balance after or NULL when short)."""
    purchases = _PURCHASES
    booked = (
        insert(purchases)
        # Prefixed: a parameter named like a column would join the SET of the UPDATE below.
        .values({c.key: bindparam(f"bk_{c.key}", type_=c.type) for c in purchases.columns})
        .returning(purchases.c.id, purchases.c.customer_id)
        .cte("booked")
    )
    usage = MeterMonthUsage.__table__
    kwh = bindparam("use_kwh", type_=usage.c.kwh_tenths.type)
    power = bindparam("use_power", type_=usage.c.power_va.type)
    at = bindparam("use_at", type_=usage.c.updated_at.type)
    reserve = postgresql.insert(usage).from_select(
        ["meter_number", "month", "kwh_tenths", "power_va", "updated_at"],
        select(
            bindparam("use_meter", type_=usage.c.meter_number.type),
            bindparam("use_month", type_=usage.c.month.type),
            kwh,
            power,
            at,
        )
        .select_from(booked)
        .where(kwh <= bindparam("use_limit", type_=usage.c.kwh_tenths.type)),  # a first row is capped too
    )
    reserved = (
        reserve.on_conflict_do_update(
            index_elements=[usage.c.meter_number, usage.c.month],
            set_={"kwh_tenths": usage.c.kwh_tenths + kwh, "power_va": power, "updated_at": at},
            where=usage.c.kwh_tenths + kwh <= bindparam("use_limit", type_=usage.c.kwh_tenths.type),
        )
        .returning(usage.c.kwh_tenths)
        .cte("reserved")
    )
    debited = _DEBIT.where(select(reserved.c.kwh_tenths).exists()).cte("debited")
    ledger = _LEDGER
    entered = (
        insert(ledger)
        .from_select(
            ["customer_id", "kind", "amount", "balance_after", "reference", "purchase_id", "created_at"],
            select(
                booked.c.customer_id,
                bindparam("led_kind", LedgerKind.PURCHASE_DEBIT.value, type_=ledger.c.kind.type),
                bindparam("led_amount", type_=ledger.c.amount.type),
                debited.c.balance,
                bindparam("led_reference", type_=ledger.c.reference.type),
                booked.c.id,
                bindparam("debit_at", type_=ledger.c.created_at.type),
            ).select_from(booked.join(debited, literal_column("true"))),
        )
        .returning(ledger.c.balance_after)
        .cte("entered")
    )
    # Refused (nothing entered in the ledger): cast the reason to an integer, which fails the whole
    # statement and so undoes every write above. The cast's operand reads the CTEs, so the planner cannot
    # evaluate it ahead of time, and a CASE evaluates it only on that branch.
    reason = case(
        (select(reserved.c.kwh_tenths).exists(), literal_column(f"'{_REFUSED}{Booking.BALANCE_TOO_LOW.value}'")),
        else_=literal_column(f"'{_REFUSED}{Booking.OVER_MONTHLY_CAP.value}'"),
    )
    refusal = case((~select(entered.c.balance_after).exists(), cast(reason, Integer)), else_=literal_column("0"))
    return select(
        select(reserved.c.kwh_tenths).scalar_subquery(), select(entered.c.balance_after).scalar_subquery(), refusal
    )


# What a refused booking's error message carries, before the Booking reason.
_REFUSED = "setrum-booking-refused:"
_BOOK_POSTGRESQL = _book_statement()


async def release_kwh(session: AsyncSession, meter_number: str, month: str, kwh_tenths: int) -> None:
    """Give back the kWh of a purchase that failed or was refunded."""
    await session.execute(
        update(MeterMonthUsage)
        .where(MeterMonthUsage.meter_number == meter_number, MeterMonthUsage.month == month)
        .values(kwh_tenths=MeterMonthUsage.kwh_tenths - kwh_tenths, updated_at=utc_now())
    )


async def bought_for(session: AsyncSession, customer_id: str, meter_number: str) -> bool:
    """Whether the customer has any purchase for the meter (one indexed probe)."""
    statement = (
        select(Purchase.id).where(Purchase.customer_id == customer_id, Purchase.meter_number == meter_number).limit(1)
    )
    return (await session.scalar(statement)) is not None


async def usage_by_meter_month(session: AsyncSession, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    keys = list(keys)
    meters = {m for m, _ in keys}
    months = {mo for _, mo in keys}
    rows = await session.execute(
        select(MeterMonthUsage.meter_number, MeterMonthUsage.month, MeterMonthUsage.kwh_tenths).where(
            MeterMonthUsage.meter_number.in_(meters), MeterMonthUsage.month.in_(months)
        )
    )
    return {(m, mo): int(k) for m, mo, k in rows}


async def latest_power_va(session: AsyncSession, meter_numbers: Iterable[str]) -> dict[str, int]:
    """The power (VA) master quoted on each meter's most recent month with a purchase."""
    latest = (
        select(MeterMonthUsage.meter_number, func.max(MeterMonthUsage.month).label("month"))
        .where(MeterMonthUsage.meter_number.in_(list(meter_numbers)))
        .group_by(MeterMonthUsage.meter_number)
        .subquery()
    )
    rows = await session.execute(
        select(MeterMonthUsage.meter_number, MeterMonthUsage.power_va).join(
            latest,
            and_(MeterMonthUsage.meter_number == latest.c.meter_number, MeterMonthUsage.month == latest.c.month),
        )
    )
    return {m: int(va) for m, va in rows}


# --- reconciliation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WalletMismatch:
    customer_id: str
    balance: Decimal
    ledger_sum: Decimal


@dataclass(frozen=True, slots=True)
class UsageMismatch:
    meter_number: str
    month: str
    recorded_tenths: int
    purchases_tenths: int


async def reconcile_wallets(session: AsyncSession) -> tuple[int, list[WalletMismatch]]:
    """Compare every balance row with the sum of its ledger; returns (wallets checked, mismatches).

    One statement, so it reads one snapshot even under READ COMMITTED while purchases run."""
    sums = (
        select(
            LedgerEntry.customer_id.label("customer_id"),
            type_coerce(func.sum(LedgerEntry.amount), Money()).label("total"),
        )
        .group_by(LedgerEntry.customer_id)
        .subquery()
    )
    rows = list(
        await session.execute(
            select(Wallet.customer_id, Wallet.balance, sums.c.total).outerjoin(
                sums, sums.c.customer_id == Wallet.customer_id
            )
        )
    )
    mismatches = []
    for customer_id, balance, total in rows:
        total = Decimal("0.00") if total is None else total
        if total != balance or balance < 0:
            mismatches.append(WalletMismatch(customer_id, balance, total))
    # Every ledger write touches its balance row first, so entries without a wallet mean corruption.
    orphans = await session.execute(
        select(LedgerEntry.customer_id, type_coerce(func.sum(LedgerEntry.amount), Money()))
        .where(~LedgerEntry.customer_id.in_(select(Wallet.customer_id)))
        .group_by(LedgerEntry.customer_id)
    )
    for customer_id, total in orphans:
        mismatches.append(WalletMismatch(customer_id, Decimal("0.00"), total))
    return len(rows), mismatches


async def reconcile_usage(session: AsyncSession) -> list[UsageMismatch]:
    """Compare each usage row with the kWh of its SUCCESS + PENDING purchases (one statement)."""
    counted = (PurchaseStatus.SUCCESS.value, *HELD_STATUSES)
    sums = (
        select(
            Purchase.meter_number.label("meter_number"),
            Purchase.usage_month.label("month"),
            func.sum(Purchase.kwh_tenths).label("total"),
        )
        .where(Purchase.status.in_(counted))
        .group_by(Purchase.meter_number, Purchase.usage_month)
        .subquery()
    )
    rows = await session.execute(
        select(MeterMonthUsage.meter_number, MeterMonthUsage.month, MeterMonthUsage.kwh_tenths, sums.c.total).outerjoin(
            sums, and_(sums.c.meter_number == MeterMonthUsage.meter_number, sums.c.month == MeterMonthUsage.month)
        )
    )
    return [
        UsageMismatch(meter, month, int(recorded), int(total or 0))
        for meter, month, recorded, total in rows
        if int(recorded) != int(total or 0)
    ]


@dataclass(frozen=True, slots=True)
class PaymentMismatch:
    reference: str
    problem: str  # CREDIT_WITHOUT_PAYMENT | PAYMENT_WITHOUT_CREDIT | AMOUNT_DIFFERS


async def reconcile_payments(session: AsyncSession) -> list[PaymentMismatch]:
    """Every TOPUP ledger entry is exactly one provider payment we recorded, for the same amount, and
    every recorded payment was credited (the reference is unique on both sides, so "one" is a join)."""
    credits = select(LedgerEntry.reference, LedgerEntry.amount).where(LedgerEntry.kind == LedgerKind.TOPUP.value)
    entries = {ref: amount for ref, amount in await session.execute(credits)}
    payments = {
        ref: amount for ref, amount in await session.execute(select(TopUpPayment.ledger_reference, TopUpPayment.amount))
    }
    mismatches = [PaymentMismatch(ref, "CREDIT_WITHOUT_PAYMENT") for ref in entries.keys() - payments.keys()]
    mismatches += [PaymentMismatch(ref, "PAYMENT_WITHOUT_CREDIT") for ref in payments.keys() - entries.keys()]
    mismatches += [
        PaymentMismatch(ref, "AMOUNT_DIFFERS")
        for ref in entries.keys() & payments.keys()
        if entries[ref] != payments[ref]
    ]
    return sorted(mismatches, key=lambda m: m.reference)


# --- management tokens --------------------------------------------------------------------------


async def list_management_tokens(
    session: AsyncSession, meter_number: str, *, first: int
) -> list[ManagementTokenRecord]:
    """Newest first (``issued_at``, then insertion order)."""
    rows = await session.scalars(
        select(ManagementTokenRecord)
        .where(ManagementTokenRecord.meter_number == meter_number)
        .order_by(ManagementTokenRecord.issued_at.desc(), ManagementTokenRecord.id.desc())
        .limit(first)
    )
    return list(rows)


# --- settlement (the worker in settlement.py) ---------------------------------------------------

_PENDING = PurchaseStatus.PENDING.value
_MOVE_TO_REVIEW = (
    update(_PURCHASES)
    .where(
        _PURCHASES.c.status == _PENDING,
        _PURCHASES.c.created_at < bindparam("review_before", type_=_PURCHASES.c.created_at.type),
    )
    .values(status=PurchaseStatus.REVIEW.value, updated_at=bindparam("review_at", type_=_PURCHASES.c.updated_at.type))
    .returning(_PURCHASES.c.id)
)


def move_to_review(conn: Connection, made_before: datetime, now: datetime) -> list[str]:
    """PENDING purchases made before ``made_before`` -> REVIEW; the ids this call moved."""
    return list(conn.execute(_MOVE_TO_REVIEW, {"review_before": made_before, "review_at": now}).scalars())


def _claim_statement() -> Any:
    due = _PURCHASES.c.settle_after
    now = bindparam("claim_now", type_=due.type)
    # FOR UPDATE SKIP LOCKED on PostgreSQL: replicas claiming at once take different rows instead of
    # queueing on each other (SQLite has no row locks; its writers take turns, so the same holds).
    chosen = (
        select(_PURCHASES.c.id)
        .where(_PURCHASES.c.status == _PENDING, or_(due.is_(None), due <= now))
        .order_by(due)
        .limit(bindparam("claim_limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(_PURCHASES)
        .where(_PURCHASES.c.id.in_(chosen.scalar_subquery()), _PURCHASES.c.status == _PENDING)
        .values(settle_after=bindparam("claim_until", type_=due.type), settle_attempts=_PURCHASES.c.settle_attempts + 1)
        .returning(_PURCHASES.c.id, _PURCHASES.c.settle_attempts)
    )


_CLAIM = _claim_statement()


def claim_due_purchases(conn: Connection, now: datetime, lease_until: datetime, limit: int) -> list[tuple[str, int]]:
    """Lease up to ``limit`` due PENDING purchases until ``lease_until`` (no other worker takes them
    before then, and one whose worker died is taken again after it): ``(id, attempts so far)``."""
    rows = conn.execute(_CLAIM, {"claim_now": now, "claim_until": lease_until, "claim_limit": limit})
    return [(row_id, int(attempts)) for row_id, attempts in rows]


_SETTLE_LATER = (
    update(_PURCHASES)
    .where(_PURCHASES.c.id == bindparam("later_id"), _PURCHASES.c.status == _PENDING)
    .values(settle_after=bindparam("later_at", type_=_PURCHASES.c.settle_after.type))
)


def settle_later(conn: Connection, purchase_id: str, at: datetime) -> None:
    """Still PENDING after a try: the next one is not before ``at`` (the backoff)."""
    conn.execute(_SETTLE_LATER, {"later_id": purchase_id, "later_at": at})


_IN_REVIEW = select(func.count()).select_from(_PURCHASES).where(_PURCHASES.c.status == PurchaseStatus.REVIEW.value)


def count_in_review(conn: Connection) -> int:
    return int(conn.execute(_IN_REVIEW).scalar_one())
