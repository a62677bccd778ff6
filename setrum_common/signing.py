"""HMAC request signing for calls to the biller (which stands for an external system).

The signature covers method, path, timestamp and a SHA-256 of the body, so a captured request
cannot be replayed with another body or after ``max_age`` seconds.
Header: ``X-Setrum-Signature: t=<unix seconds>,v1=<hex hmac>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["SIGNATURE_HEADER", "SignatureError", "sign_request", "verify_request"]

SIGNATURE_HEADER = "X-Setrum-Signature"
DEFAULT_MAX_AGE_S = 300


class SignatureError(Exception):
    """The request is unsigned, badly signed or too old."""


def _mac(secret: str, method: str, path: str, timestamp: int, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    message = f"{method.upper()}\n{path}\n{timestamp}\n{digest}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_request(secret: str, method: str, path: str, body: bytes = b"", *, timestamp: int | None = None) -> str:
    """The value for :data:`SIGNATURE_HEADER`."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={_mac(secret, method, path, ts, body)}"


def verify_request(
    secret: str,
    header: str | None,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    max_age_s: int = DEFAULT_MAX_AGE_S,
    now: int | None = None,
) -> None:
    """Raise :class:`SignatureError` unless ``header`` is a fresh, valid signature."""
    if not header:
        raise SignatureError("missing signature")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise SignatureError("malformed signature") from None
    current = int(time.time()) if now is None else now
    if abs(current - ts) > max_age_s:
        raise SignatureError("signature expired")
    if not hmac.compare_digest(given, _mac(secret, method, path, ts, body)):
        raise SignatureError("bad signature")
