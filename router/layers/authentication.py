"""Authentication at the edge: verify the client's bearer JWT once, as Apollo Router's
``authentication`` plugin does, and hand the verified claims to the rest of the request.

* No token: anonymous (``claims`` stays ``None``); authorization decides what anonymous may do.
* A token that is present but not valid: 401 with one GraphQL error ``UNAUTHENTICATED``, before
  the body is read. A malformed header, alg ``none`` or any algorithm not configured, a wrong key or
  ``kid``, an expired or not-yet-valid token, a wrong issuer or audience are all refused alike.
* A token claiming a service identity (a role in ``service_roles`` or an issuer in
  ``service_issuers``) is refused: services never come in through the public edge.

Keys: an HS256 secret (development), and/or a JWKS read from a file or a URL (:mod:`.jwks`) whose
keys sign RS256, ES256 or EdDSA tokens; a JWKS token must name its ``kid``. Verified tokens are
remembered until their own ``exp`` (a client sends the same token on every request; verifying an
RS256 signature costs ~50 µs, a dictionary hit nothing); the memo is dropped whenever the key set
changes, so a key removed from the JWKS stops working at the next refresh.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import jwt
from jwt.algorithms import has_crypto

from router.errors import Unauthenticated
from router.http.context import Handler, Layer, RouterRequest, RouterResponse
from router.settings import AuthenticationSettings

from .jwks import JwksSource

__all__ = ["EdgeAuthenticator", "authentication_layer"]

logger = logging.getLogger("router.authentication")

_ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"})
_MEMO_MAX = 4096


class EdgeAuthenticator:
    """Verifies one bearer token against the configured keys and rules; see the module docstring."""

    def __init__(self, settings: AuthenticationSettings) -> None:
        if settings.jwks_file is None and settings.jwks_url is None and settings.hs256_secret is None:
            raise ValueError("authentication: configure hs256_secret, jwks_file or jwks_url")
        if not has_crypto and (settings.jwks_file or settings.jwks_url):
            raise ValueError("authentication: a JWKS needs the 'cryptography' package")
        self._settings = settings
        self._header = settings.header_name.lower()
        self._prefix = settings.header_prefix.lower()
        self._secret = settings.hs256_secret.get_secret_value().encode() if settings.hs256_secret else None
        self._algorithms = frozenset(settings.effective_algorithms())
        self._issuers = frozenset(settings.issuers)
        self._audiences = list(settings.audiences) or None
        self._service_roles = frozenset(settings.service_roles)
        self._service_issuers = frozenset(settings.service_issuers)
        self.jwks = JwksSource.from_settings(settings) if settings.jwks_file or settings.jwks_url else None
        self._memo: dict[str, tuple[Mapping[str, Any], float]] = {}
        self._memo_generation = self.jwks.generation if self.jwks else 0

    async def authenticate(self, headers: Mapping[str, str]) -> Mapping[str, Any] | None:
        """The verified claims, ``None`` without a token; raises :class:`Unauthenticated`."""
        raw = headers.get(self._header)
        if raw is None:
            return None
        token = self._token_of(raw)
        if self.jwks is not None:
            await self.jwks.maybe_refresh()
            if self.jwks.generation != self._memo_generation:
                self._memo.clear()
                self._memo_generation = self.jwks.generation
        hit = self._memo.get(token)
        if hit is not None:
            if time.time() < hit[1] + self._settings.clock_skew_s:
                return hit[0]
            del self._memo[token]
        claims = await self._verify(token)
        self._refuse_service_identity(claims)
        expires = claims.get("exp")
        if isinstance(expires, int | float):
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[token] = (claims, float(expires))
        return claims

    def _token_of(self, raw: str) -> str:
        if not self._prefix:
            token = raw.strip()
        else:
            scheme, _, token = raw.partition(" ")
            if scheme.lower() != self._prefix:
                raise Unauthenticated(f"the {self._header} header must be '{self._settings.header_prefix} <token>'")
            token = token.strip()
        if not token:
            raise Unauthenticated("the bearer token is empty")
        return token

    async def _verify(self, token: str) -> Mapping[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("malformed bearer token") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise Unauthenticated(f"token algorithm {alg!r} is not accepted")
        key = await self._key_for(alg, header.get("kid"))
        settings = self._settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audiences,
                leeway=settings.clock_skew_s,
                options={"require": ["exp"], "verify_aud": self._audiences is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired: sign in again") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("token audience is not accepted") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise Unauthenticated("invalid bearer token") from None
        if self._issuers and claims.get("iss") not in self._issuers:
            raise Unauthenticated("token issuer is not accepted")
        return claims

    async def _key_for(self, alg: str, kid: object) -> Any:
        if alg == "HS256":
            if self._secret is None:
                raise Unauthenticated("token algorithm 'HS256' is not accepted")
            return self._secret
        if alg not in _ASYMMETRIC or self.jwks is None:
            raise Unauthenticated(f"token algorithm {alg!r} is not accepted")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token names no key id (kid)")
        key = await self.jwks.key(kid)
        if key is None:
            raise Unauthenticated("token is signed with an unknown key id (kid)")
        if key.algorithm_name is not None and key.algorithm_name != alg:
            raise Unauthenticated("token algorithm does not match its key")
        return key.key

    def _refuse_service_identity(self, claims: Mapping[str, Any]) -> None:
        role = claims.get(self._settings.role_claim)
        roles = role if isinstance(role, list) else [role]
        if any(isinstance(r, str) and r in self._service_roles for r in roles) or (
            claims.get("iss") in self._service_issuers
        ):
            raise Unauthenticated("a service identity is not accepted here")


def authentication_layer(authenticator: EdgeAuthenticator) -> Layer:
    """Verify the bearer token; the claims go on the request (``RouterRequest.claims``)."""

    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            claims = await authenticator.authenticate(request.http.headers)
            if claims is None:
                return await inner(request)
            return await inner(request.evolve(claims=claims))

        return handle

    return wrap
