"""Who is asking a GraphQL endpoint: a customer or an admin, from a customer token (sign-in).

Customer tokens are HS256 JWTs signed with ``SETRUM_JWT_SECRET`` and carry the customer id and
role. Services never act through GraphQL: a token claiming the SERVICE role is refused here, and a
service proves who it is only on internal routes, with its own key (:mod:`setrum_common.trust`).
A service is never an admin or a customer.
"""

from __future__ import annotations

import enum
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from .clock import utc_now
from .errors import DomainError, ErrorCode

__all__ = [
    "Role",
    "Viewer",
    "ANONYMOUS",
    "CUSTOMER_TOKEN_AUDIENCE",
    "CUSTOMER_TOKEN_ISSUER",
    "issue_customer_token",
    "viewer_from_authorization",
]

_ALGORITHM = "HS256"
CUSTOMER_TOKEN_ISSUER = _ISSUER = "setrum"
CUSTOMER_TOKEN_AUDIENCE = _CUSTOMER_AUDIENCE = "setrum-api"
DEFAULT_TOKEN_TTL = timedelta(hours=12)


class Role(str, enum.Enum):
    CUSTOMER = "CUSTOMER"
    ADMIN = "ADMIN"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller of one GraphQL request. ``subject`` is a customer id (an admin is a customer too)."""

    subject: str | None
    role: Role | None
    # Customer tokens only: which session this is and the account's session version when it was
    # issued (see setrum_common.sessions); tokens from before sessions existed read as (None, 0).
    session_id: str | None = None
    session_version: int = 0

    @property
    def is_authenticated(self) -> bool:
        return self.subject is not None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def customer_id(self) -> str | None:
        return self.subject if self.role is not None else None

    def require_authenticated(self) -> Viewer:
        if not self.is_authenticated:
            raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in first: this needs an Authorization bearer token")
        return self

    def require_admin(self) -> Viewer:
        self.require_authenticated()
        if not self.is_admin:
            raise DomainError(ErrorCode.FORBIDDEN, "Only an administrator may do this")
        return self

    def can_access_customer(self, customer_id: str) -> bool:
        """Customers see only themselves; admins see everyone."""
        return self.is_admin or (self.subject == str(customer_id) and self.is_authenticated)

    def require_customer_access(self, customer_id: str) -> Viewer:
        self.require_authenticated()
        if not self.can_access_customer(customer_id):
            raise DomainError(ErrorCode.FORBIDDEN, "You may only access your own account")
        return self


ANONYMOUS = Viewer(subject=None, role=None)


def issue_customer_token(
    secret: str | Ed25519PrivateKey | RSAPrivateKey,
    customer_id: str,
    role: Role,
    *,
    ttl: timedelta = DEFAULT_TOKEN_TTL,
    now: datetime | None = None,
    session_version: int = 0,
    algorithm: str = _ALGORITHM,
    key_id: str | None = None,
) -> tuple[str, datetime]:
    """A customer token for one new session: a fresh ``sid`` and the account's ``sv`` (session version).

    HS256 with ``secret`` by default; with a private key, ``algorithm`` (RS256 or EdDSA) and its
    ``key_id`` (the ``kid`` verifiers find in the published JWKS)."""
    now = now or utc_now()
    expires = now + ttl
    claims = {
        "sub": str(customer_id),
        "role": role.value,
        "sid": secrets.token_hex(16),
        "sv": session_version,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "iss": _ISSUER,
        "aud": _CUSTOMER_AUDIENCE,
    }
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, secret, algorithm=algorithm, headers=headers), expires


def _decode(token: str, secret: str) -> dict[str, object]:
    return jwt.decode(
        token,
        secret,
        algorithms=[_ALGORITHM],
        audience=_CUSTOMER_AUDIENCE,
        issuer=_ISSUER,
        options={"require": ["exp", "sub", "iss", "aud"]},
    )


# Verified tokens, remembered until their own ``exp``: a customer's token arrives on every request
# and decoding it costs ~0.15 ms. Keyed by the secret too, so a rotated secret never reuses an old
# verdict. The result of a successful verification only changes when ``exp`` passes (iat/nbf only
# get more valid), which every hit re-checks, so this is exact; failures are never cached. Bounded:
# cleared when full.
_VERIFIED_MAX = 4096
_verified: dict[tuple[str, str], tuple[Viewer, float]] = {}


def viewer_from_authorization(headers: Mapping[str, str], *, jwt_secret: str) -> Viewer:
    """Build the viewer from an ``Authorization: Bearer`` header.

    No header -> anonymous. A header that is present but invalid or expired is an error:
    silently treating it as anonymous would hide a client bug behind FORBIDDEN errors. A token
    that claims a service identity (role SERVICE) is refused whoever signed it.
    """
    header = headers.get("authorization") or headers.get("Authorization")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Authorization header must be 'Bearer <token>'")
    token = token.strip()
    key = (token, jwt_secret)
    hit = _verified.get(key)
    if hit is not None:
        if time.time() < hit[1]:  # PyJWT: expired once exp <= now
            return hit[0]
        del _verified[key]
    try:
        claims = _decode(token, jwt_secret)
    except jwt.ExpiredSignatureError:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Token expired: sign in again") from None
    except jwt.PyJWTError:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Invalid bearer token") from None
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        # SERVICE included: a service never acts through GraphQL, however its token was signed.
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Token carries an unknown role") from None
    version = claims.get("sv", 0)
    session_id = claims.get("sid")
    viewer = Viewer(
        subject=str(claims["sub"]),
        role=role,
        session_id=session_id if isinstance(session_id, str) else None,
        session_version=version if isinstance(version, int) and not isinstance(version, bool) else -1,
    )
    expires = claims.get("exp")
    if isinstance(expires, int | float):
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[key] = (viewer, float(expires))
    return viewer
