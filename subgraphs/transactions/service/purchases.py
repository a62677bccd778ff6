"""Buying a token and settling it with the biller.

Binding quote from master -> ONE transaction that inserts the PENDING purchase (unique per customer
and client reference: a replay stops there), counts its kWh against the monthly cap and debits the wallet ->
ask the biller with our own channel reference. SUCCESS stores the token; FAILED refunds once;
PENDING, a timeout or a lost connection leaves it PENDING until :func:`resolve_pending` re-asks the
biller with the same reference. Nothing here ever buys a second token for a purchase.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from setrum_common import deadline
from setrum_common.auth import Viewer
from setrum_common.clock import jakarta_month, utc_now
from setrum_common.db import Database
from setrum_common.elsewhere import waiting_elsewhere
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.money import MAX_DENOMINATION
from setrum_common.overload import learn_as
from setrum_common.quote_contract import InternalQuote

from .. import instalments
from .. import repository as repo
from ..clients import BillerMaintenance, BillerOutcome, BillerRejected, BillerUnavailable
from ..metrics import TransactionMetrics
from ..models import LedgerKind, Purchase, PurchaseStatus, channel_reference_for, new_purchase_id
from .dependencies import Services
from .inputs import checked_reference, require_buyer, whole_rupiah
from .lookup import by_client_reference, existing_for_viewer, reload_purchase
from .refunds import fail_and_refund, to_review

__all__ = [
    "DUPLICATE_WAIT_S",
    "apply_outcome",
    "purchase_token",
    "refresh_purchase",
    "reprint_token",
    "resolve_pending",
    "send_to_biller",
]

logger = logging.getLogger("setrum.transactions")

_INSTALMENT_ATTEMPTS = 8  # quotes per purchase when concurrent purchases keep paying the same debt
REPLAY_KIND = "purchaseToken replay"  # its own latency baseline in the overload limit (learn_as)
DUPLICATE_WAIT_S = 3.0  # how long a replay waits for the request still working on its purchase
_POLL_S = 0.1  # how often it looks when that request runs in another replica


def _same_request(purchase: Purchase, meter_number: str, denomination: Decimal) -> Purchase:
    if meter_number not in (purchase.meter_number, purchase.idpel) or purchase.denomination != denomination:
        raise DomainError(
            ErrorCode.DUPLICATE_REFERENCE,
            "This clientReference was already used for a different meter or denomination",
            purchaseId=purchase.id,
        )
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
    client_reference = checked_reference(client_reference, "clientReference")
    meter_number = (meter_number or "").strip()
    denomination = whole_rupiah(denomination, "denomination", maximum=MAX_DENOMINATION)

    # (1) The binding quote (master's coded errors pass through, unless the request is a replay whose
    # first answer they would hide), then (2) + (3); a meter with instalment debt is quoted with what
    # its purchases paid so far, again if that moved meanwhile. Idempotency is the booking's: a replay
    # meets its reference there (no read before every fresh purchase), and never reaches the wallet
    # or the biller.
    try:
        quote = await services.master.quote(meter_number, denomination, services.settings.channel)
        if quote.kwh_tenths <= 0:
            raise DomainError(ErrorCode.PRODUCT_UNAVAILABLE, "This denomination buys no energy for this meter")
    except DomainError:
        existing = await by_client_reference(db, customer_id, client_reference)
        if existing is None:
            raise
        return await _replay(db, services, existing, meter_number, denomination)
    seen = Decimal("0")
    for _ in range(_INSTALMENT_ATTEMPTS):
        if quote.instalment_debt > 0:
            paid = await db.run(instalments.paid_for, quote.meter_number, one_statement=True)
            if paid != seen:
                seen = paid
                quote = await services.master.quote(
                    meter_number, denomination, services.settings.channel, instalment_paid=paid
                )
        try:
            return await _book_and_send(db, services, customer_id, client_reference, denomination, quote, seen)
        except instalments.InstalmentMoved:
            seen = Decimal("-1")  # re-read and re-quote
    raise DomainError(
        ErrorCode.SERVICE_UNAVAILABLE, "Many purchases are paying this meter's instalment at once; try again"
    )


async def _book_and_send(
    db: Database,
    services: Services,
    customer_id: str,
    client_reference: str,
    denomination: Decimal,
    quote: InternalQuote,
    instalment_seen: Decimal,
) -> Purchase:
    meter_number = quote.meter_number
    now = utc_now()
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
        instalment_debt_left=quote.instalment_debt_left,
        energy_value=quote.energy_value,
        kwh_tenths=quote.kwh_tenths,
        total_paid=quote.total_paid,
        usage_month=jakarta_month(now),
        created_at=now,
        updated_at=now,
        # Until then the purchase is its request's; after, the settlement worker's (if still PENDING).
        settle_after=now + timedelta(seconds=services.settings.settle_first_after_s),
        settle_attempts=0,
    )
    # (3) + (4) in ONE transaction: the row, the cap and the debit stand or fall together. On PostgreSQL
    # without an instalment that is one statement, atomic by itself: no BEGIN/COMMIT round trips.
    limit = quote.limit_tenths  # master's VA / 1000 × 720, in tenths of a kWh
    alone = not db.is_sqlite and purchase.instalment == 0
    try:
        await db.run(_book, purchase, limit, quote, instalment_seen, write=True, one_statement=alone)
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
        # The client reference is booked already (a replay, or a concurrent twin that committed first).
        existing = await by_client_reference(db, customer_id, client_reference)
        if existing is None:
            raise
        return await _replay(db, services, existing, meter_number, denomination)
    services.metrics.purchase_reached(PurchaseStatus.PENDING)
    services.metrics.ledger_booked(LedgerKind.PURCHASE_DEBIT, purchase.total_paid)

    # (5) Ask the biller, outside any transaction (it may take seconds).
    done = services.in_flight[purchase.id] = asyncio.Event()
    try:
        return await send_to_biller(db, services, purchase, raise_maintenance=True)
    finally:
        done.set()
        del services.in_flight[purchase.id]


async def _replay(
    db: Database, services: Services, existing: Purchase, meter_number: str, denomination: Decimal
) -> Purchase:
    """The answer to a request whose client reference is booked: its purchase, once it is final."""
    learn_as(REPLAY_KIND)
    return await _after_first(db, services, _same_request(existing, meter_number, denomination))


async def _after_first(db: Database, services: Services, purchase: Purchase) -> Purchase:
    """A replay of a purchase whose first request is still asking the biller waits (at most
    :data:`DUPLICATE_WAIT_S`) for that answer, so both get the same final one instead of PENDING."""
    first_request_s = services.settings.settle_first_after_s
    if purchase.status != PurchaseStatus.PENDING.value or utc_now() - purchase.created_at > timedelta(
        seconds=first_request_s
    ):
        return purchase
    # Never past the caller's deadline (less our margin to answer): it would only see a timeout.
    left_s = deadline.remaining_s()
    wait_s = DUPLICATE_WAIT_S if left_s is None else min(DUPLICATE_WAIT_S, left_s - services.settings.deadline_margin_s)
    with waiting_elsewhere():  # on another request: not this service's queueing (setrum_common/overload.py)
        return await _wait_for_first(db, services, purchase, time.monotonic() + wait_s)


async def _wait_for_first(db: Database, services: Services, purchase: Purchase, give_up: float) -> Purchase:
    while (left := give_up - time.monotonic()) > 0:
        done = services.in_flight.get(purchase.id)
        if done is not None:  # this process runs the first request: wake when it ends
            try:
                await asyncio.wait_for(done.wait(), timeout=left)
            except TimeoutError:
                break
            return await reload_purchase(db, purchase.id)
        # Another replica runs it (or it just ended): look again shortly.
        await asyncio.sleep(min(_POLL_S, left))
        purchase = await reload_purchase(db, purchase.id)
        if purchase.status != PurchaseStatus.PENDING.value:
            break
    return purchase


def _book(conn: Connection, purchase: Purchase, limit: int, quote: InternalQuote, instalment_seen: Decimal) -> None:
    """The purchase, its kWh, the debit and (last, in the same lock order as a refund) its instalment."""
    repo.book_purchase(conn, purchase, limit)
    if purchase.instalment > 0:
        total = instalments.pay(
            conn, purchase.meter_number, due=purchase.instalment, per_purchase=quote.instalment_per_purchase,
            debt=quote.instalment_debt, seen=instalment_seen,
        )  # fmt: skip
        left = max(quote.instalment_debt - total, Decimal("0"))
        if left != purchase.instalment_debt_left:
            purchase.instalment_debt_left = left
            table = Purchase.__table__
            conn.execute(update(table).where(table.c.id == purchase.id).values(instalment_debt_left=left))


async def send_to_biller(db: Database, services: Services, purchase: Purchase, *, raise_maintenance: bool) -> Purchase:
    metrics = services.metrics
    try:
        outcome = await services.biller.purchase(
            reference=purchase.channel_reference,
            meter_number=purchase.meter_number,
            kwh_tenths=purchase.kwh_tenths,
            amount=purchase.nominal,
            deductions={"ppj": purchase.ppj, "ppn": purchase.ppn, "stampDuty": purchase.stamp_duty,
                        "instalment": purchase.instalment},
        )  # fmt: skip
    except BillerMaintenance as error:
        await fail_and_refund(db, purchase.id, code=ErrorCode.BILLER_MAINTENANCE, message=str(error), metrics=metrics)
        if raise_maintenance:
            raise DomainError(
                ErrorCode.BILLER_MAINTENANCE,
                "The biller is in maintenance (cut-off); nothing was sold and your wallet was refunded",
                purchaseId=purchase.id,
            ) from None
        return await reload_purchase(db, purchase.id)
    except BillerUnavailable as error:
        logger.warning("biller unavailable for %s, purchase stays PENDING: %s", purchase.channel_reference, error)
        return await reload_purchase(db, purchase.id)
    except BillerRejected as error:
        if error.code == ErrorCode.DUPLICATE_REFERENCE:
            # The biller holds something else under our reference: never guess, leave it for an operator.
            logger.error("biller reports a duplicate reference %s; purchase goes to REVIEW", purchase.channel_reference)
            await to_review(db, purchase.id, "BILLER_DUPLICATE_REFERENCE", metrics=metrics)
            return await reload_purchase(db, purchase.id)
        # The request itself was refused (validated before anything is sold): fail and refund.
        await fail_and_refund(
            db, purchase.id, code=error.code or "BILLER_REJECTED", message=str(error), metrics=metrics
        )
        return await reload_purchase(db, purchase.id)
    return await apply_outcome(db, purchase, outcome, metrics=metrics)


async def apply_outcome(
    db: Database, purchase: Purchase, outcome: BillerOutcome, *, metrics: TransactionMetrics | None = None
) -> Purchase:
    """Record the biller's answer; each status move happens at most once."""
    if outcome.status == "SUCCESS" and outcome.token:
        now = utc_now()
        values = {
            "token": outcome.token,
            "biller_reference": outcome.biller_reference,
            "biller_code": outcome.code,
            "biller_message": outcome.message,
            "issued_at": outcome.issued_at or now,
            "updated_at": now,
            "key_change_tokens": " ".join(outcome.key_change_tokens) if outcome.key_change_tokens else None,
        }
        moved = await db.run(repo.record_success, purchase.id, values, write=True, one_statement=True)
        if not moved:  # someone else settled it first: what they stored is the truth
            return await reload_purchase(db, purchase.id)
        if metrics is not None:
            metrics.purchase_reached(PurchaseStatus.SUCCESS)
        # The row now holds exactly these values; answer from memory instead of reading it back.
        purchase.status = PurchaseStatus.SUCCESS.value
        for name, value in values.items():
            setattr(purchase, name, value)
        return purchase
    if outcome.status == "FAILED":
        await fail_and_refund(
            db,
            purchase.id,
            code=outcome.code or "BILLER_FAILED",
            message=outcome.message,
            biller_reference=outcome.biller_reference,
            metrics=metrics,
        )
    return await reload_purchase(db, purchase.id)


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
        return await send_to_biller(db, services, purchase, raise_maintenance=False)
    return await apply_outcome(db, purchase, outcome, metrics=services.metrics)


async def refresh_purchase(db: Database, services: Services, viewer: Viewer, purchase_id: str) -> Purchase:
    purchase = await existing_for_viewer(db, viewer, purchase_id)
    return await resolve_pending(db, services, purchase)


async def reprint_token(db: Database, services: Services, viewer: Viewer, purchase_id: str) -> Purchase:
    """The STORED token again ("cetak ulang"); a new token would credit the meter twice."""
    purchase = await existing_for_viewer(db, viewer, purchase_id)
    if purchase.status == PurchaseStatus.PENDING.value:
        purchase = await resolve_pending(db, services, purchase)
    if purchase.status != PurchaseStatus.SUCCESS.value or not purchase.token:
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, f"Purchase {purchase.id} is {purchase.status}: there is no token to reprint"
        )
    return purchase
