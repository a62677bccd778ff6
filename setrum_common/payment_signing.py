"""Signed payment notifications between the payment provider and transactions.

A notification is a JSON object sent in its canonical form (keys sorted, no spaces, UTF-8), signed
with HMAC-SHA256 over ``<unix seconds>.<body>`` with the provider's own secret
(``SETRUM_PAYMENTS_SECRET``), as the Indonesian gateways and Stripe sign their webhooks:
``X-Payments-Signature: t=<unix seconds>,v1=<hex hmac>``. The receiver verifies the raw bytes it got,
so any change to the body, the timestamp or the signature fails; a timestamp outside ``max_age_s``
is refused as stale, and each delivery carries a ``deliveryId`` the receiver remembers (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import orjson

__all__ = [
    "NOTIFICATION_SIGNATURE_HEADER",
    "NotificationSignatureError",
    "canonical_body",
    "sign_notification",
    "verify_notification",
]

NOTIFICATION_SIGNATURE_HEADER = "X-Payments-Signature"
DEFAULT_MAX_AGE_S = 300


class NotificationSignatureError(Exception):
    """The notification is unsigned, badly signed or stale; ``reason`` says which."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "unsigned" | "bad_signature" | "stale"


def canonical_body(payload: dict[str, Any]) -> bytes:
    """The one byte form of a notification: sorted keys, compact, UTF-8."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign_notification(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The value of :data:`NOTIFICATION_SIGNATURE_HEADER` for ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={_mac(secret, ts, body)}"


def verify_notification(
    secret: str, header: str | None, body: bytes, *, max_age_s: int = DEFAULT_MAX_AGE_S, now: int | None = None
) -> None:
    """Raise :class:`NotificationSignatureError` unless ``header`` signs ``body`` freshly with ``secret``."""
    if not header:
        raise NotificationSignatureError("unsigned", "missing signature")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise NotificationSignatureError("bad_signature", "malformed signature") from None
    if not hmac.compare_digest(given, _mac(secret, ts, body)):
        raise NotificationSignatureError("bad_signature", "bad signature")
    current = int(time.time()) if now is None else now
    if abs(current - ts) > max_age_s:
        raise NotificationSignatureError("stale", "signature outside the time window")
