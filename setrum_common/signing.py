"""HMAC request signing for calls to the biller (which stands for an external system).

The signature covers method, path, timestamp, a random nonce and a SHA-256 of the body, so a
captured request cannot be replayed with another body or after ``max_age`` seconds; a receiver
that keeps a :class:`NonceCache` also refuses the same request twice within the window.
Header: ``X-Setrum-Signature: t=<unix seconds>,n=<nonce>,v1=<hex hmac>``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

__all__ = ["SIGNATURE_HEADER", "NonceCache", "SignatureError", "sign_request", "verify_request"]

SIGNATURE_HEADER = "X-Setrum-Signature"
DEFAULT_MAX_AGE_S = 300


class SignatureError(Exception):
    """The request is unsigned, badly signed or too old."""


class NonceCache:
    """The nonces seen within the signature window (in memory, per process): a second request with
    a nonce already seen is a replay. Entries are dropped once their timestamp is out of the window."""

    def __init__(self, max_age_s: int = DEFAULT_MAX_AGE_S) -> None:
        self._max_age_s = max_age_s
        self._seen: dict[str, int] = {}  # nonce -> its request's timestamp

    def first_use(self, nonce: str, timestamp: int, now: int) -> bool:
        if len(self._seen) > 1024:
            self._seen = {n: t for n, t in self._seen.items() if abs(now - t) <= self._max_age_s}
        if nonce in self._seen:
            return False
        self._seen[nonce] = timestamp
        return True


def _mac(secret: str, method: str, path: str, timestamp: int, nonce: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    message = f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_request(
    secret: str, method: str, path: str, body: bytes = b"", *, timestamp: int | None = None, nonce: str | None = None
) -> str:
    """The value for :data:`SIGNATURE_HEADER`, with a fresh random nonce unless one is given."""
    ts = int(time.time()) if timestamp is None else timestamp
    n = secrets.token_hex(12) if nonce is None else nonce
    return f"t={ts},n={n},v1={_mac(secret, method, path, ts, n, body)}"


def verify_request(
    secret: str,
    header: str | None,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    max_age_s: int = DEFAULT_MAX_AGE_S,
    now: int | None = None,
    nonces: NonceCache | None = None,
) -> None:
    """Raise :class:`SignatureError` unless ``header`` is a fresh, valid signature (and, given
    ``nonces``, one not seen before)."""
    if not header:
        raise SignatureError("missing signature")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
        nonce = parts["n"]
        given = parts["v1"]
    except (KeyError, ValueError):
        raise SignatureError("malformed signature") from None
    current = int(time.time()) if now is None else now
    if abs(current - ts) > max_age_s:
        raise SignatureError("signature expired")
    if not nonce or len(nonce) > 64:
        raise SignatureError("malformed signature")
    if not hmac.compare_digest(given, _mac(secret, method, path, ts, nonce, body)):
        raise SignatureError("bad signature")
    if nonces is not None and not nonces.first_use(nonce, ts, current):
        raise SignatureError("replayed signature")
