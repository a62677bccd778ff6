"""Business rules of the wallet and of a token purchase.

A purchase goes (docs/domain.md §Purchase flow): idempotency check on (customer, client reference) -> binding quote
from master -> ONE transaction that inserts the PENDING purchase with every receipt field, counts
its kWh against the meter's monthly cap and debits the wallet -> ask the biller with our own
channel reference -> SUCCESS stores the token; FAILED refunds in one transaction (exactly once);
PENDING, a timeout or a lost connection leaves the purchase PENDING until :func:`resolve_pending`
re-asks the biller with the same reference. Nothing here ever buys a second token for a purchase.

Month boundaries of the cap are Asia/Jakarta calendar months (UTC+7; Indonesia has no DST).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from . import repository as repo
from .clients import (
    BillerClient,
    BillerMaintenance,
    BillerOutcome,
    BillerRejected,
    BillerUnavailable,
    MasterClient,
)
from .metrics import TransactionMetrics
from .models import (
    LedgerKind,
    ManagementKind,
    ManagementTokenRecord,
    Purchase,
    PurchaseStatus,
    channel_reference_for,
    new_purchase_id,
    utcnow,
)
from .settings import MAX_TOP_UP, Settings

__all__ = [
    "JAKARTA",
    "Services",
    "WalletView",
    "ReconciliationReport",
    "jakarta_month",
    "month_bounds",
    "parse_month",
    "monthly_limit_tenths",
    "require_buyer",
    "wallet_of",
    "top_up",
    "purchase_token",
    "resolve_pending",
    "refresh_purchase",
    "refund_purchase",
    "reprint_token",
    "purchase_for_viewer",
    "purchase_by_reference",
    "reconcile",
    "KEY_CHANGE_REQUIRED",
    "MAX_MANAGEMENT_PAGE",
    "issue_management_token",
    "management_tokens",
]

logger = logging.getLogger("setrum.transactions")

JAKARTA = timezone(timedelta(hours=7), "Asia/Jakarta")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_MAX_DENOMINATION = Decimal("1000000000")


@dataclass
class Services:
    """What the purchase flow needs besides the database; lives for the whole process."""

    settings: Settings
    master: MasterClient
    biller: BillerClient
    # The app puts its observability registry here (see app.create_app); tests may leave the default.
    metrics: TransactionMetrics = field(default_factory=TransactionMetrics)

    async def aclose(self) -> None:
        await self.master.aclose()
        await self.biller.aclose()


@dataclass(frozen=True, slots=True)
class WalletView:
    customer_id: str
    balance: Decimal
    currency: str = "IDR"


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    wallets_checked: int
    wallet_mismatches: list[repo.WalletMismatch]
    usage_mismatches: list[repo.UsageMismatch]

    @property
    def ok(self) -> bool:
        return not self.wallet_mismatches and not self.usage_mismatches


# --- small rules ----------------------------------------------------------------------------------


def jakarta_month(at: datetime) -> str:
    return at.astimezone(JAKARTA).strftime("%Y-%m")


def parse_month(month: str | None, *, now: datetime | None = None) -> str:
    """Validate ``YYYY-MM`` (default: the current Jakarta month)."""
    if month is None:
        return jakarta_month(now or utcnow())
    if not _MONTH.match(month):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "month must look like 2026-01")
    return month


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants where a Jakarta calendar month starts and ends (end exclusive)."""
    year, mon = int(month[:4]), int(month[5:7])
    start = datetime(year, mon, 1, tzinfo=JAKARTA)
    end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=JAKARTA)
    return start.astimezone(UTC), end.astimezone(UTC)


def monthly_limit_tenths(power_va: int) -> int:
    """VA / 1000 × 720 kWh, in tenths of a kWh (900 VA -> 648.0 kWh)."""
    return power_va * 72 // 10


def _reference(value: str, field: str) -> str:
    value = (value or "").strip()
    if not _REFERENCE.match(value):
        raise DomainError(
            ErrorCode.BAD_USER_INPUT,
            f"{field} must be 1-64 characters: letters, digits, '.', '_', ':' or '-'",
        )
    return value


def _whole_rupiah(value: Decimal, field: str, *, maximum: Decimal) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"{field} must be a number") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"{field} must be a whole number of rupiah")
    if amount <= 0 or amount > maximum:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"{field} must be between 1 and {maximum:,.0f} rupiah")
    return amount.quantize(Decimal("0.01"))


def require_buyer(viewer: Viewer) -> str:
    """The signed-in customer (or admin) acting for themselves; services cannot own a wallet."""
    viewer.require_authenticated()
    if viewer.customer_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only a signed-in customer has a wallet")
    return viewer.customer_id


def _check_access(viewer: Viewer, purchase: Purchase) -> Purchase:
    viewer.require_authenticated()
    if not viewer.can_access_customer(purchase.customer_id):
        raise DomainError(ErrorCode.FORBIDDEN, "This purchase belongs to another customer")
    return purchase


# --- wallet ---------------------------------------------------------------------------------------


async def wallet_of(db: Database, customer_id: str) -> WalletView:
    async with db.session() as session:
        wallet = await repo.get_wallet(session, customer_id)
    return WalletView(customer_id, wallet.balance if wallet else Decimal("0.00"))


async def top_up(
    db: Database,
    viewer: Viewer,
    amount: Decimal,
    payment_reference: str,
    *,
    metrics: TransactionMetrics | None = None,
) -> WalletView:
    """Credit a (simulated) payment once: replaying ``payment_reference`` changes nothing."""
    customer_id = require_buyer(viewer)
    amount = _whole_rupiah(amount, "amount", maximum=Decimal(MAX_TOP_UP))
    reference = "topup:" + _reference(payment_reference, "paymentReference")
    await credit_once(db, customer_id, amount, reference, metrics=metrics)
    return await wallet_of(db, customer_id)


async def credit_once(
    db: Database, customer_id: str, amount: Decimal, reference: str, *, metrics: TransactionMetrics | None = None
) -> bool:
    """A TOPUP under a globally unique reference; True if it was new. Used by the seed too."""
    try:
        created = False
        async with db.transaction() as session:
            existing = await repo.find_ledger_entry(session, reference)
            if existing is None:
                await repo.credit_wallet(session, customer_id, amount, kind=LedgerKind.TOPUP, reference=reference)
                created = True
        if created:  # counted once committed
            if metrics is not None:
                metrics.ledger_booked(LedgerKind.TOPUP, amount)
            return True
    except IntegrityError:  # a concurrent top-up with the same reference won (PostgreSQL)
        async with db.session() as session:
            existing = await repo.find_ledger_entry(session, reference)
        if existing is None:
            raise
    assert existing is not None
    if existing.customer_id != customer_id or existing.amount != amount or existing.kind != LedgerKind.TOPUP.value:
        raise DomainError(
            ErrorCode.DUPLICATE_REFERENCE, "This payment reference was already used for a different top-up"
        )
    return False


# --- purchases ------------------------------------------------------------------------------------


async def _by_client_reference(db: Database, customer_id: str, client_reference: str) -> Purchase | None:
    purchase_id = await db.run(repo.purchase_id_by_client_reference, customer_id, client_reference, one_statement=True)
    return None if purchase_id is None else await _reload(db, purchase_id)


def _same_request(purchase: Purchase, meter_number: str, denomination: Decimal) -> Purchase:
    if meter_number not in (purchase.meter_number, purchase.idpel) or purchase.denomination != denomination:
        raise DomainError(
            ErrorCode.DUPLICATE_REFERENCE,
            "This clientReference was already used for a different meter or denomination",
            purchaseId=purchase.id,
        )
    return purchase


async def _reload(db: Database, purchase_id: str) -> Purchase:
    async with db.session() as session:
        purchase = await repo.get_purchase(session, purchase_id)
    assert purchase is not None
    return purchase


async def purchase_token(
    db: Database,
    services: Services,
    viewer: Viewer,
    *,
    meter_number: str,
    denomination: Decimal,
    client_reference: str,
) -> Purchase:
    customer_id = require_buyer(viewer)
    client_reference = _reference(client_reference, "clientReference")
    meter_number = (meter_number or "").strip()
    denomination = _whole_rupiah(denomination, "denomination", maximum=_MAX_DENOMINATION)

    # (1) Idempotency first: a replay never reaches master, the wallet or the biller.
    existing = await _by_client_reference(db, customer_id, client_reference)
    if existing is not None:
        return _same_request(existing, meter_number, denomination)

    # (2) The binding quote (master's coded errors pass through).
    quote = await services.master.quote(meter_number, denomination, services.settings.channel)
    if quote.kwh_tenths <= 0:
        raise DomainError(ErrorCode.PRODUCT_UNAVAILABLE, "This denomination buys no energy for this meter")

    now = utcnow()
    purchase_id = new_purchase_id()
    purchase = Purchase(
        id=purchase_id,
        customer_id=customer_id,
        client_reference=client_reference,
        channel_reference=channel_reference_for(purchase_id),
        status=PurchaseStatus.PENDING.value,
        meter_number=quote.meter_number,
        idpel=quote.idpel,
        holder_name=quote.holder_name,
        tariff_code=quote.tariff_code,
        power_va=quote.power_va,
        channel=services.settings.channel,
        denomination=denomination,
        nominal=quote.nominal,
        admin_fee=quote.admin_fee,
        stamp_duty=quote.stamp_duty,
        ppn=quote.ppn,
        ppj=quote.ppj,
        instalment=quote.instalment,
        energy_value=quote.energy_value,
        kwh_tenths=quote.kwh_tenths,
        total_paid=quote.total_paid,
        usage_month=jakarta_month(now),
        created_at=now,
        updated_at=now,
    )
    # (3) + (4) in ONE transaction: the row, the cap and the debit stand or fall together.
    limit = quote.limit_tenths  # master's VA / 1000 × 720, in tenths of a kWh
    try:
        await db.run(repo.book_purchase, purchase, limit, write=True)
    except repo.BookingRefused as refused:
        if refused.reason is repo.Booking.OVER_MONTHLY_CAP:
            raise DomainError(
                ErrorCode.KWH_LIMIT_EXCEEDED,
                f"Meter {purchase.meter_number} may receive at most {Decimal(limit) / 10} kWh in "
                f"{purchase.usage_month}; this purchase would exceed it",
            ) from None
        raise DomainError(
            ErrorCode.INSUFFICIENT_BALANCE, f"Your wallet does not cover Rp {purchase.total_paid:,.2f}; top up first"
        ) from None
    except IntegrityError:
        # A concurrent request with the same client reference committed first: return its purchase.
        existing = await _by_client_reference(db, customer_id, client_reference)
        if existing is None:
            raise
        return _same_request(existing, meter_number, denomination)
    services.metrics.purchase_reached(PurchaseStatus.PENDING)
    services.metrics.ledger_booked(LedgerKind.PURCHASE_DEBIT, purchase.total_paid)

    # (5) Ask the biller, outside any transaction (it may take seconds).
    return await _send_to_biller(db, services, purchase, raise_maintenance=True)


async def _send_to_biller(db: Database, services: Services, purchase: Purchase, *, raise_maintenance: bool) -> Purchase:
    metrics = services.metrics
    try:
        outcome = await services.biller.purchase(
            reference=purchase.channel_reference,
            meter_number=purchase.meter_number,
            kwh_tenths=purchase.kwh_tenths,
            amount=purchase.nominal,
        )
    except BillerMaintenance as error:
        await _fail_and_refund(
            db, purchase.id, code=ErrorCode.BILLER_MAINTENANCE, message=str(error), metrics=metrics
        )
        if raise_maintenance:
            raise DomainError(
                ErrorCode.BILLER_MAINTENANCE,
                "The biller is in maintenance (cut-off); nothing was sold and your wallet was refunded",
                purchaseId=purchase.id,
            ) from None
        return await _reload(db, purchase.id)
    except BillerUnavailable as error:
        logger.warning("biller unavailable for %s, purchase stays PENDING: %s", purchase.channel_reference, error)
        return await _reload(db, purchase.id)
    except BillerRejected as error:
        if error.code == ErrorCode.DUPLICATE_REFERENCE:
            # The biller holds something else under our reference: never guess, leave it for an operator.
            logger.error("biller reports a duplicate reference %s; purchase stays PENDING", purchase.channel_reference)
            metrics.purchase_needs_review("BILLER_DUPLICATE_REFERENCE")
            return await _reload(db, purchase.id)
        # The request itself was refused (validated before anything is sold): fail and refund.
        await _fail_and_refund(
            db, purchase.id, code=error.code or "BILLER_REJECTED", message=str(error), metrics=metrics
        )
        return await _reload(db, purchase.id)
    return await apply_outcome(db, purchase, outcome, metrics=metrics)


def _as_utc(at: datetime) -> datetime:
    """As the UTC column will read it back (a naive biller time is UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


async def apply_outcome(
    db: Database, purchase: Purchase, outcome: BillerOutcome, *, metrics: TransactionMetrics | None = None
) -> Purchase:
    """Record the biller's answer; each status move happens at most once."""
    if outcome.status == "SUCCESS" and outcome.token:
        now = utcnow()
        values = {
            "token": outcome.token,
            "biller_reference": outcome.biller_reference,
            "biller_code": outcome.code,
            "biller_message": outcome.message,
            "issued_at": _as_utc(outcome.issued_at) if outcome.issued_at else now,
            "updated_at": now,
        }
        moved = await db.run(repo.record_success, purchase.id, values, write=True, one_statement=True)
        if not moved:  # someone else settled it first: what they stored is the truth
            return await _reload(db, purchase.id)
        if metrics is not None:
            metrics.purchase_reached(PurchaseStatus.SUCCESS)
        # The row now holds exactly these values; answer from memory instead of reading it back.
        purchase.status = PurchaseStatus.SUCCESS.value
        for name, value in values.items():
            setattr(purchase, name, value)
        return purchase
    if outcome.status == "FAILED":
        await _fail_and_refund(
            db,
            purchase.id,
            code=outcome.code or "BILLER_FAILED",
            message=outcome.message,
            biller_reference=outcome.biller_reference,
            metrics=metrics,
        )
    return await _reload(db, purchase.id)


async def _give_back(session: AsyncSession, purchase: Purchase) -> None:
    """Undo a purchase's effects inside the caller's transaction: its kWh leave the month's usage and
    the amount paid returns to the wallet, booked under the (unique) ledger reference ``refund:<purchase id>``
    whichever path, a failure or a reversal, gets there."""
    await repo.release_kwh(session, purchase.meter_number, purchase.usage_month, purchase.kwh_tenths)
    await repo.credit_wallet(
        session,
        purchase.customer_id,
        purchase.total_paid,
        kind=LedgerKind.REFUND_CREDIT,
        reference=f"refund:{purchase.id}",
        purchase_id=purchase.id,
    )


async def _fail_and_refund(
    db: Database,
    purchase_id: str,
    *,
    code: str | None,
    message: str | None,
    biller_reference: str | None = None,
    metrics: TransactionMetrics | None = None,
) -> bool:
    """PENDING -> FAILED, give back the kWh and refund the wallet, all in one transaction (exactly once)."""
    async with db.transaction() as session:
        purchase = await repo.get_purchase(session, purchase_id)
        assert purchase is not None
        moved = await repo.transition_purchase(
            session,
            purchase_id,
            from_status=PurchaseStatus.PENDING,
            to_status=PurchaseStatus.FAILED,
            biller_code=code,
            biller_message=message,
            biller_reference=biller_reference or purchase.biller_reference,
        )
        if not moved:
            return False
        await _give_back(session, purchase)
    if metrics is not None:
        metrics.purchase_reached(PurchaseStatus.FAILED)
        metrics.ledger_booked(LedgerKind.REFUND_CREDIT, purchase.total_paid)
    return True


async def resolve_pending(db: Database, services: Services, purchase: Purchase) -> Purchase:
    """Re-ask the biller about a PENDING purchase with the SAME reference; never buy again."""
    if purchase.status != PurchaseStatus.PENDING.value:
        return purchase
    try:
        outcome = await services.biller.status(purchase.channel_reference)
    except (BillerUnavailable, BillerRejected, BillerMaintenance) as error:
        logger.warning("could not refresh %s: %s", purchase.channel_reference, error)
        return purchase
    if outcome is None:
        # The biller never received our request (lost on the way): send it now, same reference.
        return await _send_to_biller(db, services, purchase, raise_maintenance=False)
    return await apply_outcome(db, purchase, outcome, metrics=services.metrics)


async def purchase_for_viewer(db: Database, viewer: Viewer, purchase_id: str) -> Purchase | None:
    viewer.require_authenticated()
    async with db.session() as session:
        purchase = await repo.get_purchase(session, str(purchase_id))
    return _check_access(viewer, purchase) if purchase is not None else None


async def purchase_by_reference(db: Database, viewer: Viewer, client_reference: str) -> Purchase | None:
    customer_id = require_buyer(viewer)
    return await _by_client_reference(db, customer_id, client_reference.strip())


def is_stale_pending(purchase: Purchase, settings: Settings) -> bool:
    if purchase.status != PurchaseStatus.PENDING.value or settings.pending_refresh_after_s <= 0:
        return False
    return utcnow() - purchase.created_at >= timedelta(seconds=settings.pending_refresh_after_s)


async def _existing_for_viewer(db: Database, viewer: Viewer, purchase_id: str) -> Purchase:
    purchase = await purchase_for_viewer(db, viewer, purchase_id)
    if purchase is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"No purchase {purchase_id}")
    return purchase


async def refresh_purchase(db: Database, services: Services, viewer: Viewer, purchase_id: str) -> Purchase:
    purchase = await _existing_for_viewer(db, viewer, purchase_id)
    return await resolve_pending(db, services, purchase)


async def reprint_token(db: Database, services: Services, viewer: Viewer, purchase_id: str) -> Purchase:
    """The STORED token again ("cetak ulang"); a new token would credit the meter twice."""
    purchase = await _existing_for_viewer(db, viewer, purchase_id)
    if purchase.status == PurchaseStatus.PENDING.value:
        purchase = await resolve_pending(db, services, purchase)
    if purchase.status != PurchaseStatus.SUCCESS.value or not purchase.token:
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, f"Purchase {purchase.id} is {purchase.status}: there is no token to reprint"
        )
    return purchase


async def refund_purchase(
    db: Database,
    viewer: Viewer,
    purchase_id: str,
    reason: str | None = None,
    *,
    metrics: TransactionMetrics | None = None,
) -> Purchase:
    """Admin: the biller reversed a SUCCESS; SUCCESS -> REFUNDED with its wallet credit, exactly once."""
    viewer.require_admin()
    async with db.transaction() as session:
        purchase = await repo.get_purchase(session, str(purchase_id))
        if purchase is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"No purchase {purchase_id}")
        moved = await repo.transition_purchase(
            session,
            purchase.id,
            from_status=PurchaseStatus.SUCCESS,
            to_status=PurchaseStatus.REFUNDED,
            biller_message=reason or purchase.biller_message,
        )
        if not moved:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT, f"Only a SUCCESS purchase can be refunded (this one is {purchase.status})"
            )
        await _give_back(session, purchase)
    if metrics is not None:
        metrics.purchase_reached(PurchaseStatus.REFUNDED)
        metrics.ledger_booked(LedgerKind.REFUND_CREDIT, purchase.total_paid)
    return await _reload(db, purchase.id)


async def reconcile(db: Database) -> ReconciliationReport:
    """Prove balance == sum(ledger) for every wallet and usage == sum(kWh) for every meter-month."""
    async with db.session() as session:
        checked, wallets = await repo.reconcile_wallets(session)
        usage = await repo.reconcile_usage(session)
    return ReconciliationReport(checked, wallets, usage)


# --- STS management tokens (admin) ---------------------------------------------------------------

KEY_CHANGE_REQUIRED = ErrorCode.KEY_CHANGE_REQUIRED  # the meter needs a key change token before any other token
MAX_MANAGEMENT_PAGE = 100
_MAX_POWER_WATTS = 1_000_000  # far above any prepaid connection (the largest is 197 kVA)
_REGISTERS = {0: "electricity", 0xFFFF: "all registers"}


def _management_value(kind: ManagementKind, value: int | None) -> int | None:
    """What each kind carries: SET_MAX_POWER a positive watt limit; CLEAR_CREDIT optionally the
    register (0 electricity, the default, or 65535 all); CLEAR_TAMPER nothing."""
    if kind is ManagementKind.SET_MAX_POWER:
        if value is None or not 0 < value <= _MAX_POWER_WATTS:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT,
                f"SET_MAX_POWER needs value = the limit in watts (1 to {_MAX_POWER_WATTS:,})",
                field="value",
            )
        return value
    if kind is ManagementKind.CLEAR_CREDIT:
        if value is not None and value not in _REGISTERS:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT,
                "CLEAR_CREDIT takes value 0 (electricity register, the default) or 65535 (all registers)",
                field="value",
            )
        return value
    if value not in (None, 0):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "CLEAR_TAMPER carries no value", field="value")
    return None


def _management_meter(meter_number: str) -> str:
    number = (meter_number or "").strip()
    if len(number) != 11 or not number.isdigit():
        raise DomainError(ErrorCode.WRONG_DIGIT_COUNT, "meterNumber must be an 11-digit meter number")
    return number


async def issue_management_token(
    db: Database,
    services: Services,
    viewer: Viewer,
    *,
    meter_number: str,
    kind: ManagementKind,
    value: int | None,
) -> ManagementTokenRecord:
    """Ask the biller for a class 2 token and record who asked for it.

    Not idempotent on purpose: each call is a new token with a new TID (the biller's rule), so a
    retry after a lost answer issues another one; the meter accepts either, once."""
    viewer.require_admin()
    kind = ManagementKind(kind)
    number = _management_meter(meter_number)
    value = _management_value(kind, value)
    try:
        issued = await services.biller.management_token(meter_number=number, kind=kind.value, value=value)
    except BillerRejected as error:
        if error.code == "UNKNOWN_METER":
            raise DomainError(
                ErrorCode.WRONG_CUSTOMER_NUMBER, f"The biller has no meter {number} in its register"
            ) from None
        if error.code == KEY_CHANGE_REQUIRED:
            raise DomainError(
                KEY_CHANGE_REQUIRED,
                f"Meter {number} needs a key change (its STS base date has run out) before it accepts "
                "management tokens; ask the utility for key change tokens first",
                meterNumber=number,
            ) from None
        if error.code == ErrorCode.BAD_USER_INPUT:
            raise DomainError(ErrorCode.BAD_USER_INPUT, f"The biller refused the request: {error}") from None
        logger.error("biller refused a management token for %s: %s (%s)", number, error, error.code)
        raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "The biller refused to issue the token") from None
    except BillerMaintenance:
        raise DomainError(ErrorCode.BILLER_MAINTENANCE, "The biller is in maintenance; try again later") from None
    except BillerUnavailable as error:
        code = ErrorCode.BILLER_TIMEOUT if error.code == ErrorCode.BILLER_TIMEOUT else ErrorCode.SERVICE_UNAVAILABLE
        raise DomainError(
            code, "The biller did not answer; a token may have been issued, check managementTokens or retry"
        ) from None
    record = ManagementTokenRecord(
        meter_number=number,
        kind=kind.value,
        value=value,
        token=issued.token,
        issued_at=issued.issued_at,
        issued_by=str(viewer.subject),
    )
    async with db.transaction() as session:
        session.add(record)
        await session.flush()
    services.metrics.management_token_issued(kind)
    logger.info("management token %s for meter %s issued by %s", kind.value, number, viewer.subject)
    return record


async def management_tokens(db: Database, viewer: Viewer, meter_number: str, *, first: int) -> list[ManagementTokenRecord]:
    """Admin: the management tokens issued for a meter, newest first."""
    viewer.require_admin()
    if not 1 <= first <= MAX_MANAGEMENT_PAGE:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"first must be between 1 and {MAX_MANAGEMENT_PAGE}")
    number = _management_meter(meter_number)
    async with db.session() as session:
        return await repo.list_management_tokens(session, number, first=first)
