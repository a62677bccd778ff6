"""``POST /internal/payments/notify``: the payment provider tells us a top-up was paid.

Only the provider can send one: the body is HMAC-SHA256-signed with its own secret over the
timestamp and the raw body (:mod:`setrum_common.payment_signing`). Refusals, each with its own
status and code and counted in ``setrum_payment_notifications_refused_total{reason}``:

- 401 ``UNSIGNED`` / ``BAD_SIGNATURE`` (a tampered body too) / ``STALE_SIGNATURE`` (outside the window)
- 400 ``MALFORMED``; 409 ``REPLAYED`` (a delivery id seen before)
- 404 ``UNKNOWN_INTENT``, 422 ``AMOUNT_MISMATCH``, 410 ``INTENT_EXPIRED`` (paid after the expiry),
  409 ``INTENT_CANCELLED``, ``ALREADY_PAID`` (another payment paid it), ``PAYMENT_CONFLICT``:
  the provider takes these as final and refunds the payer.

A payment notified again (the provider's retry after a lost answer) is answered 200
``ALREADY_CREDITED`` and books nothing: see :func:`.service.topups.credit_payment`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from setrum_common.clock import as_utc, utc_now
from setrum_common.db import Database
from setrum_common.payment_signing import (
    NOTIFICATION_SIGNATURE_HEADER,
    NotificationSignatureError,
    verify_notification,
)

from .models import PaymentDelivery
from .service.dependencies import Services
from .service.topups import NotificationRefused, NotifiedPayment, credit_payment
from .settings import TransactionsSettings

__all__ = ["NOTIFY_PATH", "payment_notification_routes"]

logger = logging.getLogger("setrum.transactions.payments")

NOTIFY_PATH = "/internal/payments/notify"
_SIGNATURE_CODES = {"unsigned": "UNSIGNED", "bad_signature": "BAD_SIGNATURE", "stale": "STALE_SIGNATURE"}


def _parse(body: bytes) -> tuple[str, NotifiedPayment]:
    """(delivery id, payment) from a verified body, or :class:`NotificationRefused` ``malformed``."""
    try:
        data: Any = orjson.loads(body)
        if not isinstance(data, dict) or data.get("type") != "payment.paid" or data.get("currency") != "IDR":
            raise ValueError("type must be payment.paid in IDR")
        fields: dict[str, str] = {}
        for name in ("deliveryId", "paymentId", "intentId", "merchantReference"):
            value = data.get(name)
            if not isinstance(value, str) or not 0 < len(value) <= 64:
                raise ValueError(f"{name} must be a string of 1-64 characters")
            fields[name] = value
        amount = Decimal(str(data.get("amount")))
        if not amount.is_finite() or amount <= 0 or amount != amount.to_integral_value():
            raise ValueError("amount must be whole rupiah")
        paid_at = as_utc(datetime.fromisoformat(str(data.get("paidAt"))))
    except (orjson.JSONDecodeError, ValueError, InvalidOperation) as error:
        raise NotificationRefused(400, "MALFORMED", "malformed", f"not a payment notification: {error}") from None
    payment = NotifiedPayment(
        payment_id=fields["paymentId"],
        intent_id=fields["intentId"],
        top_up_id=fields["merchantReference"],
        amount=amount.quantize(Decimal("0.01")),
        paid_at=paid_at,
    )
    return fields["deliveryId"], payment


async def _first_delivery(db: Database, delivery_id: str, max_age_s: int) -> bool:
    """Remember ``delivery_id``; False when it was seen before. Ids older than twice the signature window
    are forgotten: a notification that old is refused as stale before this is asked."""
    try:
        async with db.transaction() as session:
            forget_before = utc_now() - timedelta(seconds=2 * max_age_s)
            await session.execute(delete(PaymentDelivery).where(PaymentDelivery.received_at < forget_before))
            session.add(PaymentDelivery(delivery_id=delivery_id))
        return True
    except IntegrityError:
        return False


def payment_notification_routes(settings: TransactionsSettings, services: Services) -> list[Route]:
    secret = settings.payments_secret.get_secret_value()
    max_age_s = settings.payment_notification_max_age_s

    def refuse(status: int, code: str, reason: str, message: str) -> Response:
        services.metrics.payment_notification_refused(reason)
        logger.warning("payment notification refused: %s (%s)", code, message)
        return Response(orjson.dumps({"code": code, "message": message}), status, media_type="application/json")

    async def notify(request: Request) -> Response:
        body = await request.body()
        try:
            verify_notification(secret, request.headers.get(NOTIFICATION_SIGNATURE_HEADER), body, max_age_s=max_age_s)
        except NotificationSignatureError as error:
            return refuse(401, _SIGNATURE_CODES[error.reason], error.reason, str(error))
        db: Database = request.app.state.db
        try:
            delivery_id, payment = _parse(body)
            if not await _first_delivery(db, delivery_id, max_age_s):
                raise NotificationRefused(409, "REPLAYED", "replayed", "this delivery was received before")
            credited = await credit_payment(db, payment, metrics=services.metrics)
        except NotificationRefused as refused:
            return refuse(refused.status, refused.code, refused.reason, str(refused))
        services.metrics.payment_notification_accepted("credited" if credited else "duplicate")
        status = "CREDITED" if credited else "ALREADY_CREDITED"
        return Response(orjson.dumps({"status": status}), 200, media_type="application/json")

    return [Route(NOTIFY_PATH, notify, methods=["POST"])]
