"""The settlement worker: every PENDING purchase is settled with the biller without a client read.

A purchase's own request settles it when the biller answers in time. When it does not (a timeout,
the biller down, transactions killed mid-purchase), the purchase stays PENDING and, once its
``settle_after`` has passed, a worker round takes it:

- claim: one conditional ``UPDATE … RETURNING`` leases due purchases (``settle_after`` moved past
  the lease; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so replicas never work on the same row and a
  purchase whose worker died is taken again when its lease runs out. Nothing lives in memory: a
  restarted process simply finds the rows again.
- settle: :func:`service.purchases.resolve_pending` asks the biller by our reference and applies the answer
  (it sends the purchase itself when the biller never received it; never a second sale).
- back off: still PENDING -> the next try after 1, 2, 4 … s, at most ``settle_backoff_max_s``.
- review: still PENDING ``review_after_s`` after it was made -> REVIEW, counted in
  ``setrum_purchases_needing_review_total{reason="UNSETTLED"}``, for an operator's ``settlePurchase``.

While the biller's circuit breaker is open no round claims anything (the leases would only expire).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from setrum_common.auth import Viewer
from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from . import repository as repo
from .clients import BillerError
from .models import HELD_STATUSES, Purchase, PurchaseStatus
from .service.dependencies import Services
from .service.lookup import reload_purchase
from .service.purchases import apply_outcome, resolve_pending, send_to_biller
from .service.refunds import fail_and_refund

__all__ = ["SettlementWorker", "backoff_s", "settle_by_hand", "purchases_in_review"]

logger = logging.getLogger("setrum.transactions.settlement")

UNSETTLED = "UNSETTLED"
_MAX_PARALLEL = 8  # biller exchanges in flight per worker round


def backoff_s(attempts: int, maximum: float) -> float:
    """Wait after the ``attempts``-th unsuccessful try: 1, 2, 4 … seconds, capped."""
    return float(min(maximum, 2 ** max(0, attempts - 1)))


class SettlementWorker:
    """One per process; :meth:`start` in the app's start-up, :meth:`stop` at shutdown."""

    def __init__(self, db: Database, services: Services) -> None:
        self.db = db
        self.services = services
        self.settings = services.settings
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        if self.settings.settle_interval_s > 0 and self._task is None:
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="settlement-worker")

    async def stop(self) -> None:
        """Let the round in progress finish (its leases would otherwise wait out their time)."""
        if self._task is None:
            return
        self._stopping.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._task, timeout=self.settings.settle_lease_s)
        self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception:  # a database hiccup must not end the worker
                logger.exception("settlement round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.settle_interval_s)

    async def run_once(self) -> int:
        """One round: move overdue purchases to REVIEW, then claim and settle the due ones.
        Returns how many purchases this round took."""
        now = utc_now()
        metrics = self.services.metrics
        made_before = now - timedelta(seconds=self.settings.review_after_s)
        for purchase_id in await self.db.run(repo.move_to_review, made_before, now, write=True):
            logger.error(
                "purchase %s is still unsettled after %ss: moved to REVIEW", purchase_id, self.settings.review_after_s
            )
            metrics.purchase_needs_review(UNSETTLED)
        metrics.set_in_review(await self.db.run(repo.count_in_review, one_statement=True))
        if not self.services.biller.available():
            return 0
        lease_until = now + timedelta(seconds=self.settings.settle_lease_s)
        claimed = await self.db.run(repo.claim_due_purchases, now, lease_until, self.settings.settle_batch, write=True)
        if claimed:
            gate = asyncio.Semaphore(_MAX_PARALLEL)

            async def settle(purchase_id: str, attempts: int) -> None:
                async with gate:
                    await self._settle(purchase_id, attempts)

            await asyncio.gather(*(settle(purchase_id, attempts) for purchase_id, attempts in claimed))
        return len(claimed)

    async def _settle(self, purchase_id: str, attempts: int) -> None:
        try:
            async with self.db.session() as session:
                purchase = await repo.get_purchase(session, purchase_id)
            if purchase is None or purchase.status != PurchaseStatus.PENDING.value:
                return
            purchase = await resolve_pending(self.db, self.services, purchase)
            if purchase.status != PurchaseStatus.PENDING.value:
                logger.info("settled %s: %s after %d tries", purchase_id, purchase.status, attempts)
                self.services.metrics.purchase_settled_by_worker()
                return
        except Exception:
            logger.exception("settling %s failed; it stays PENDING", purchase_id)
        wait = backoff_s(attempts, self.settings.settle_backoff_max_s)
        await self.db.run(
            repo.settle_later, purchase_id, utc_now() + timedelta(seconds=wait), write=True, one_statement=True
        )


# --- settling by hand (admin) ---------------------------------------------------------------------


async def purchases_in_review(db: Database, viewer: Viewer, *, first: int) -> list[Purchase]:
    """Admin: the purchases waiting for an operator, oldest first."""
    viewer.require_admin()
    if not 1 <= first <= 100:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "first must be between 1 and 100")
    async with db.session() as session:
        rows, _ = await repo.list_purchases(session, status=PurchaseStatus.REVIEW, first=first, oldest_first=True)
    return rows


async def settle_by_hand(
    db: Database, services: Services, viewer: Viewer, purchase_id: str, *, refund_if_unsold: bool
) -> Purchase:
    """Admin: settle a REVIEW (or PENDING) purchase with what the biller says about our reference.

    SUCCESS stores the token, FAILED refunds. When the biller never received the reference, the sale
    is sent now — or, with ``refund_if_unsold``, the purchase fails and is refunded instead. A biller
    record that does not match the purchase (another meter's energy under our reference) is refused:
    that needs the biller's operators, not a guess."""
    viewer.require_admin()
    async with db.session() as session:
        purchase = await repo.get_purchase(session, str(purchase_id))
    if purchase is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"No purchase {purchase_id}")
    if purchase.status not in HELD_STATUSES:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"Purchase {purchase.id} is already {purchase.status}")
    try:
        outcome = await services.biller.status(purchase.channel_reference)
    except BillerError as error:
        raise DomainError(
            ErrorCode.SERVICE_UNAVAILABLE, f"The biller did not answer about {purchase.channel_reference}: {error}"
        ) from None
    if outcome is None:
        if refund_if_unsold:
            await fail_and_refund(
                db,
                purchase.id,
                code="NOT_SOLD",
                message=f"settled by hand by {viewer.subject}: the biller never received it",
                metrics=services.metrics,
            )
            return await reload_purchase(db, purchase.id)
        return await send_to_biller(db, services, purchase, raise_maintenance=False)
    if outcome.status == "SUCCESS" and outcome.kwh is not None and outcome.kwh != purchase.kwh:
        raise DomainError(
            ErrorCode.DUPLICATE_REFERENCE,
            f"The biller holds {outcome.kwh} kWh under {purchase.channel_reference}, not this purchase's "
            f"{purchase.kwh} kWh: settle it with the biller's operators",
        )
    return await apply_outcome(db, purchase, outcome, metrics=services.metrics)
