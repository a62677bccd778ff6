"""Router -> subgraph request signatures (Ed25519), and their verification at the subgraph.

The router signs every subgraph request it sends; the signature covers

    setrum-router-v1 \\n METHOD \\n path?query \\n timestamp \\n nonce \\n sha256(body) \\n sha256(claims header)

and travels as ``x-setrum-router-signature: kid=<key id>,t=<unix s>,n=<nonce>,sig=<base64url>``,
beside the claims it vouches for in ``x-setrum-claims`` (:mod:`.claims`). A subgraph holds only
public keys, so a compromised subgraph cannot sign as the router. It accepts a signature from a
known key, within ``window_s`` of its clock, whose nonce it has not seen in the last two windows
(a captured request cannot be replayed, nor its body or claims changed). Replicas of a subgraph
each remember their own nonces: a replay to another replica within the window is what the short
window bounds. Keys are loaded once; each request costs one Ed25519 signature and one verification.
"""

from __future__ import annotations

import binascii
import hashlib
import secrets
import time
from collections import deque
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .codec import b64url, unb64url
from .keys import check_kid

__all__ = [
    "DEFAULT_WINDOW_S",
    "SIGNATURE_HEADER",
    "UNSIGNED",
    "RouterSigner",
    "RouterVerifier",
    "SignatureRejected",
]

SIGNATURE_HEADER = "x-setrum-router-signature"
UNSIGNED = "this service answers GraphQL only from the router (unsigned request)"
DEFAULT_WINDOW_S = 30.0
_VERSION = b"setrum-router-v1"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_NONCES_MAX = 200_000  # two windows of traffic at ~3,000 fetches/s; past it requests are refused


def _message(method: str, target: str, timestamp: str, nonce: str, body: bytes, claims: str) -> bytes:
    body_digest = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
    claims_digest = hashlib.sha256(claims.encode()).hexdigest() if claims else _EMPTY_SHA256
    return b"\n".join(
        (_VERSION, method.upper().encode(), target.encode(), timestamp.encode(), nonce.encode(),
         body_digest.encode(), claims_digest.encode())
    )  # fmt: skip


class SignatureRejected(Exception):
    """Why a request's router signature was refused; ``reason`` labels the metric."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RouterSigner:
    """Signs requests with one router's private key (loaded once, at start-up)."""

    def __init__(self, key: Ed25519PrivateKey, key_id: str) -> None:
        self._key = key
        self.key_id = check_kid(key_id)

    def sign(self, method: str, target: str, body: bytes, claims: str = "", *, now: float | None = None) -> str:
        """The :data:`SIGNATURE_HEADER` value for one request (``target``: path and query)."""
        timestamp = str(int(time.time() if now is None else now))
        nonce = secrets.token_urlsafe(12)
        signature = self._key.sign(_message(method, target, timestamp, nonce, body, claims))
        encoded = b64url(signature)
        return f"kid={self.key_id},t={timestamp},n={nonce},sig={encoded}"


class RouterVerifier:
    """Checks router signatures against a keyring of router public keys, with a replay cache."""

    def __init__(self, keyring: Mapping[str, Ed25519PublicKey], *, window_s: float = DEFAULT_WINDOW_S) -> None:
        if not keyring:
            raise ValueError("a router verifier needs at least one router public key")
        self._keyring = dict(keyring)
        self._window_s = window_s
        self._seen: dict[str, float] = {}
        self._order: deque[tuple[float, str]] = deque()

    def verify(
        self, header: str | None, method: str, target: str, body: bytes, claims: str = "", *, now: float | None = None
    ) -> None:
        """Raise :class:`SignatureRejected` unless the request carries a good, fresh, unseen signature."""
        if not header:
            raise SignatureRejected("missing", UNSIGNED)
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        kid, timestamp, nonce, encoded = parts.get("kid"), parts.get("t"), parts.get("n"), parts.get("sig")
        if not (kid and timestamp and nonce and encoded) or not timestamp.isdigit() or len(nonce) > 64:
            raise SignatureRejected("malformed", "malformed router signature")
        key = self._keyring.get(kid)
        if key is None:
            raise SignatureRejected("unknown_key", "router signature from an unknown key")
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > self._window_s:
            raise SignatureRejected("expired", "router signature outside its time window")
        try:
            signature = unb64url(encoded)
            key.verify(signature, _message(method, target, timestamp, nonce, body, claims))
        except (InvalidSignature, binascii.Error, ValueError):
            raise SignatureRejected("bad_signature", "router signature does not match the request") from None
        self._remember(nonce, current)

    def _remember(self, nonce: str, now: float) -> None:
        order, seen = self._order, self._seen
        while order and order[0][0] <= now:
            expired_nonce = order.popleft()[1]
            seen.pop(expired_nonce, None)
        if nonce in seen:
            raise SignatureRejected("replayed", "router signature already used (replay)")
        if len(seen) >= _NONCES_MAX:
            raise SignatureRejected("replay_cache_full", "too many signed requests in the window; try again")
        expires = now + 2 * self._window_s
        seen[nonce] = expires
        order.append((expires, nonce))
