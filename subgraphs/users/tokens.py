"""How users signs customer tokens, and the public keys it publishes for verifiers.

Development: HS256 with ``SETRUM_JWT_SECRET`` (the router verifies with the same secret).
Production: an RS256 or EdDSA private key (``USERS_TOKEN_SIGNING_KEY`` or ``_FILE``, PEM) with a key
id (``USERS_TOKEN_SIGNING_KEY_ID``); its public key is served at ``/.well-known/jwks.json``, where the
router's JWKS URL points. Rotation: publish the next key first (``USERS_TOKEN_PUBLISHED_KEYS_FILE``, a
JWKS the endpoint adds), wait for the routers to refresh, switch the signing key, and drop the old
public key once its tokens have expired (``USERS_TOKEN_TTL_MINUTES``). The key is loaded once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .settings import UsersSettings

__all__ = ["TokenSigner", "jwks_route", "token_signer"]


@dataclass(frozen=True, slots=True)
class TokenSigner:
    """The key tokens are signed with (the HS256 secret, or a private key) and what it publishes."""

    key: str | Ed25519PrivateKey | RSAPrivateKey
    algorithm: str = "HS256"
    key_id: str | None = None
    published: dict[str, Any] = field(default_factory=lambda: {"keys": []})


_cache: dict[tuple[Any, ...], TokenSigner] = {}


def token_signer(settings: UsersSettings) -> TokenSigner:
    """Built once per key configuration (no key parsing per sign-in)."""
    pem = settings.token_signing_key.get_secret_value() if settings.token_signing_key else None
    cache_key = (pem, settings.token_signing_key_file, settings.token_signing_key_id,
                 settings.token_published_keys_file, settings.jwt_secret.get_secret_value())  # fmt: skip
    found = _cache.get(cache_key)
    if found is None:
        found = _cache[cache_key] = _build(settings, pem)
    return found


def _build(settings: UsersSettings, pem: str | None) -> TokenSigner:
    if settings.token_signing_key_file is not None:
        pem = settings.token_signing_key_file.read_text(encoding="utf-8")
    extra: list[Any] = []
    if settings.token_published_keys_file is not None:
        loaded = json.loads(settings.token_published_keys_file.read_text(encoding="utf-8"))
        extra = list(loaded.get("keys", [])) if isinstance(loaded, dict) else []
    if pem is None:
        return TokenSigner(settings.jwt_secret.get_secret_value(), published={"keys": extra})
    key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    kid = settings.token_signing_key_id
    if isinstance(key, Ed25519PrivateKey):
        public: dict[str, Any] = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
        algorithm = "EdDSA"
    elif isinstance(key, RSAPrivateKey):
        if key.key_size < 2048:
            raise ValueError("USERS_TOKEN_SIGNING_KEY: an RSA key needs at least 2048 bits")
        public = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        algorithm = "RS256"
    else:
        raise ValueError("USERS_TOKEN_SIGNING_KEY must be an RSA or Ed25519 private key (PEM)")
    own = {**public, "kid": kid, "alg": algorithm, "use": "sig"}
    others = [k for k in extra if isinstance(k, dict) and k.get("kid") != kid and "d" not in k]
    return TokenSigner(key, algorithm, kid, {"keys": [own, *others]})


def jwks_route(settings: UsersSettings) -> Route:
    """``GET /.well-known/jwks.json``: the public keys customer tokens are (or were) signed with."""
    signer = token_signer(settings)

    async def jwks(_: Request) -> Response:
        return JSONResponse(signer.published, headers={"cache-control": "public, max-age=300"})

    return Route("/.well-known/jwks.json", jwks, methods=["GET"])
