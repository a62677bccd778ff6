"""Delivers payment notifications to the merchant until it answers, as a real gateway does.

A background task looks for payments whose notification is due, POSTs each (canonical JSON, signed
with :mod:`setrum_common.payment_signing`, a fresh ``deliveryId`` and timestamp per attempt) and
records the answer: 2xx -> DELIVERED; a refusal that says the payment itself is unacceptable (unknown,
expired or cancelled intent, amount mismatch, already paid) -> REFUND (the money goes back to the
payer); anything else (transactions down, 5xx, a signature problem being fixed) -> tried again with
exponential backoff. So a restart of transactions loses no payment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

import httpx
import orjson

from setrum_common.payment_signing import NOTIFICATION_SIGNATURE_HEADER, canonical_body, sign_notification

from .models import Intent, NotifyState, Payment
from .service import PaymentsService

__all__ = ["REFUND_CODES", "Notifier", "notification_payload"]

logger = logging.getLogger("setrum.payments.notifier")

# The merchant's answers that refuse the payment for good: the provider gives the money back.
REFUND_CODES = frozenset({"UNKNOWN_INTENT", "INTENT_EXPIRED", "INTENT_CANCELLED", "AMOUNT_MISMATCH", "ALREADY_PAID"})
_BATCH = 32


def notification_payload(payment: Payment, intent: Intent) -> dict[str, object]:
    return {
        "type": "payment.paid",
        "deliveryId": uuid.uuid4().hex,
        "paymentId": payment.id,
        "intentId": intent.id,
        "merchantReference": intent.merchant_reference,
        "amount": str(payment.amount),
        "currency": "IDR",
        "method": intent.method,
        "paidAt": payment.paid_at.isoformat(),
    }


class Notifier:
    def __init__(
        self,
        service: PaymentsService,
        *,
        url: str,
        secret: str,
        interval_s: float,
        timeout_s: float,
        backoff_max_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.service = service
        self.url = url
        self._secret = secret
        self.interval_s = interval_s
        self.backoff_max_s = backoff_max_s
        self.lease = timedelta(seconds=timeout_s + 5)
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)
        self._wake = asyncio.Event()
        self._round_done = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="payments-notifier")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    def wake(self) -> None:
        """A payment was just made: deliver now rather than at the next tick."""
        self._wake.set()

    async def wait_round(self, timeout_s: float) -> None:
        """Wait (at most ``timeout_s``) until the notifier has finished one more round."""
        async with self._round_done:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._round_done.wait(), timeout_s)

    async def _run(self) -> None:
        while True:
            try:
                await self.deliver_due()
            except Exception:  # a database hiccup must not stop deliveries for good
                logger.exception("notification round failed")
            async with self._round_done:
                self._round_done.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()

    async def deliver_due(self) -> int:
        due = await self.service.due(_BATCH, self.lease)
        await asyncio.gather(*(self._deliver(payment, intent) for payment, intent in due))
        return len(due)

    async def _deliver(self, payment: Payment, intent: Intent) -> None:
        body = canonical_body(notification_payload(payment, intent))
        headers = {
            NOTIFICATION_SIGNATURE_HEADER: sign_notification(self._secret, body),
            "content-type": "application/json",
        }
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            await self._retry(payment, f"transport: {error!r}")
            return
        code = _code(response)
        answer = f"{response.status_code} {code or ''}".strip()
        if 200 <= response.status_code < 300:
            await self.service.record_answer(payment.id, NotifyState.DELIVERED, answer, None)
        elif code in REFUND_CODES:
            logger.warning("payment %s refused by the merchant (%s): marked for refund", payment.id, answer)
            await self.service.record_answer(payment.id, NotifyState.REFUND, answer, None)
        else:
            await self._retry(payment, answer)

    async def _retry(self, payment: Payment, answer: str) -> None:
        wait = min(self.backoff_max_s, 0.5 * 2 ** min(payment.attempts, 20))
        logger.info("notification of %s not delivered (%s); again in %.1fs", payment.id, answer, wait)
        await self.service.record_answer(payment.id, NotifyState.PENDING, answer, timedelta(seconds=wait))


def _code(response: httpx.Response) -> str | None:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    code = data.get("code") if isinstance(data, dict) else None
    return code if isinstance(code, str) else None
