"""Service-to-service tokens: signed by the CALLING service for one request to one target service.

The token is a JWT signed with the caller's Ed25519 key (``EdDSA``), sent in :data:`SERVICE_TOKEN_HEADER`
(never ``Authorization``, so no GraphQL endpoint can mistake it for a customer). Claims:

- ``iss`` = ``sub`` = the caller's service name, ``aud`` = the target service's name;
- ``iat``/``exp``: valid :data:`TOKEN_TTL_S` seconds (a little clock skew is allowed);
- ``jti``: a random nonce; the target remembers it until the token expires, so a captured request
  is served once;
- ``htm``, ``htp``, ``bh``: the method, the path and the SHA-256 of the body, so a token is good
  for this one request and no other body.

The target checks all of it against the caller's public key (:mod:`.service_keys`); which callers a
route accepts is the route's business (:mod:`.internal_routes`).

The compact JWS (RFC 7515, ``EdDSA`` per RFC 8037) is built and checked here directly rather than
through PyJWT: a token is signed on every call between services (two or three per purchase) and
PyJWT's generic layers (key preparation, header merging, JSON with sorted keys, claim validators)
cost more CPU than the Ed25519 signature itself. The tokens are the same JWTs (any JWT library
reads them); the checks are the same ones, with the algorithm pinned to ``EdDSA``.
"""

from __future__ import annotations

import binascii
import hashlib
import secrets
import time
from functools import lru_cache
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature

from .codec import b64url, unb64url
from .service_keys import ServiceKeyring

__all__ = [
    "SERVICE_TOKEN_HEADER",
    "TOKEN_TTL_S",
    "ReplayCache",
    "ServiceAuthError",
    "issue_service_token",
    "service_headers",
    "verify_service_token",
]

SERVICE_TOKEN_HEADER = "x-setrum-service-token"
TOKEN_TTL_S = 60
_LEEWAY_S = 5
_ALGORITHM = "EdDSA"
_REPLAY_MAX = 200_000
_REQUIRED = ("iss", "sub", "aud", "iat", "exp", "jti", "htm", "htp", "bh")
_MAX_TOKEN = 8192  # ours are ~400 characters; a huge header is refused before any decoding


class ServiceAuthError(Exception):
    """A service call that is refused: ``reason`` is a short metric label, ``status`` 401 or 403."""

    def __init__(self, reason: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


class ReplayCache:
    """The ``jti`` of every token accepted and not yet expired (per process)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}  # jti -> until when it is remembered

    def first_use(self, jti: str, until: float, now: float) -> bool:
        if len(self._seen) >= _REPLAY_MAX:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
            if len(self._seen) >= _REPLAY_MAX:
                return False  # only live tokens: refuse rather than forget one
        if jti in self._seen:
            return False
        self._seen[jti] = until
        return True


def _body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@lru_cache(maxsize=64)
def _header_segment(kid: str) -> bytes:
    """The protected header of every token ``kid`` signs (the same bytes PyJWT would write)."""
    return b64url(orjson.dumps({"alg": _ALGORITHM, "kid": kid, "typ": "JWT"})).encode()


def issue_service_token(
    keyring: ServiceKeyring, audience: str, method: str, path: str, body: bytes = b"", *, now: float | None = None
) -> str:
    """A token of ``keyring``'s service for one request to ``audience``."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": keyring.name,
        "sub": keyring.name,
        "aud": audience,
        "iat": issued,
        "exp": issued + TOKEN_TTL_S,
        "jti": secrets.token_urlsafe(16),
        "htm": method.upper(),
        "htp": path,
        "bh": _body_hash(body),
    }
    signing_input = _header_segment(keyring.name) + b"." + b64url(orjson.dumps(claims)).encode()
    return (signing_input + b"." + b64url(keyring.private_key.sign(signing_input)).encode()).decode()


def service_headers(
    keyring: ServiceKeyring, audience: str, method: str, path: str, body: bytes = b""
) -> dict[str, str]:
    """The header that authenticates one request of ours to ``audience``."""
    return {SERVICE_TOKEN_HEADER: issue_service_token(keyring, audience, method, path, body)}


def verify_service_token(
    keyring: ServiceKeyring,
    token: str | None,
    method: str,
    path: str,
    body: bytes,
    *,
    replay: ReplayCache,
    now: float | None = None,
) -> str:
    """The calling service's name, or :class:`ServiceAuthError` (401): unsigned, unknown service,
    bad signature, expired, another audience, another request (method, path or body) or replayed."""
    if not token:
        raise ServiceAuthError("unsigned", "A service token is required (x-setrum-service-token)")
    caller, claims = _signed_claims(keyring, token)
    current = time.time() if now is None else now
    expires = claims["exp"]
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise ServiceAuthError("malformed", "Malformed service token")
    if expires <= current - _LEEWAY_S:
        raise ServiceAuthError("expired", "The service token has expired")
    not_before = claims.get("nbf")
    if not_before is not None and (not isinstance(not_before, int | float) or not_before > current + _LEEWAY_S):
        raise ServiceAuthError("bad_signature", "The service token is not valid yet")
    if claims["iss"] != caller:
        raise ServiceAuthError("bad_signature", "The service token's signature or claims are not valid")
    if claims["aud"] != keyring.name:
        raise ServiceAuthError("wrong_audience", "The service token is for another service")
    issued, expires, jti = claims["iat"], claims["exp"], claims["jti"]
    if not (isinstance(issued, int) and not isinstance(issued, bool) and isinstance(jti, str) and 8 <= len(jti) <= 64):
        raise ServiceAuthError("malformed", "Malformed service token")
    if expires - issued > TOKEN_TTL_S or issued > current + _LEEWAY_S or expires + _LEEWAY_S < current:
        raise ServiceAuthError("expired", "The service token is outside its short lifetime")
    if claims["sub"] != caller:
        raise ServiceAuthError("bad_signature", "The service token's subject is not its issuer")
    if claims["htm"] != method.upper() or claims["htp"] != path or claims["bh"] != _body_hash(body):
        raise ServiceAuthError("tampered", "The service token was signed for another request or body")
    if not replay.first_use(jti, expires + _LEEWAY_S, current):
        raise ServiceAuthError("replayed", "This service token was used already")
    return str(caller)


def _signed_claims(keyring: ServiceKeyring, token: str) -> tuple[str, dict[str, Any]]:
    """The caller named in the token's header and its claims, once its EdDSA signature checks out."""
    parts = token.split(".") if len(token) <= _MAX_TOKEN else []
    header = _json_object(parts[0]) if len(parts) == 3 else None
    if header is None:
        raise ServiceAuthError("malformed", "Malformed service token")
    kid = header.get("kid")
    caller = kid if isinstance(kid, str) else ""
    key = keyring.public_key_of(caller) if caller else None
    if key is None:
        raise ServiceAuthError("unknown_service", "The token names no service this one knows")
    try:
        if header.get("alg") != _ALGORITHM:  # pinned: never "none", never a MAC keyed with a public key
            raise InvalidSignature
        key.verify(unb64url(parts[2]), f"{parts[0]}.{parts[1]}".encode())
    except (InvalidSignature, binascii.Error, ValueError):
        raise ServiceAuthError("bad_signature", "The service token's signature or claims are not valid") from None
    claims = _json_object(parts[1])
    if claims is None or any(claims.get(name) is None for name in _REQUIRED):
        raise ServiceAuthError("bad_signature", "The service token's signature or claims are not valid")
    return caller, claims


def _json_object(segment: str) -> dict[str, Any] | None:
    """A base64url JSON object segment of a token, or None when it is not one."""
    try:
        value = orjson.loads(unb64url(segment))
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None
