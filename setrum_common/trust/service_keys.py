"""Each service's own Ed25519 keypair, and the public keys of the services it accepts calls from.

A service signs its calls with its private key (``SETRUM_SERVICE_KEY``: the 32-byte seed, printed as
base64url; :mod:`.codec` also reads base64 and PEM) and verifies its callers with their public keys
(``SETRUM_SERVICE_PUBLIC_KEYS``: a JSON object ``{"transactions": "<public key>", ...}``). One compromised
service can then sign only as itself.

Development needs no configuration: each service's key is derived from its name, so every
process of ``./scripts/dev`` agrees. Anyone can derive those keys, so production refuses them
(:func:`development_key_in_use`). ``python -m setrum keys`` prints fresh keys for a deployment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .codec import KeyTextError, Spelling, key_text, private_key_from_text, public_key_from_text

__all__ = [
    "SERVICE_NAMES",
    "ServiceKeyError",
    "ServiceKeyring",
    "development_key_in_use",
    "development_private_key",
    "encode_private_key",
    "encode_public_key",
    "generate_deployment_keys",
    "load_keyring",
    "private_key_variable",
]

SERVICE_NAMES = ("users", "master", "transactions", "biller", "router", "payments")
_DEV_SEED_PREFIX = b"setrum development service key (never in production): "


class ServiceKeyError(ValueError):
    """A service key is missing, malformed or a development key where production needs a real one."""


_Key = TypeVar("_Key", Ed25519PrivateKey, Ed25519PublicKey)


def _decoded(load: Callable[[str], _Key], text: str, what: str) -> _Key:
    try:
        return load(text)
    except KeyTextError as error:
        raise ServiceKeyError(f"{what} {error}") from None


def development_private_key(service: str) -> Ed25519PrivateKey:
    """The development key of ``service``: derived from its name, known to anyone, refused in production."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(_DEV_SEED_PREFIX + service.encode()).digest())


def encode_private_key(key: Ed25519PrivateKey) -> str:
    return key_text(key, Spelling.BASE64URL)


def encode_public_key(key: Ed25519PublicKey) -> str:
    return key_text(key, Spelling.BASE64URL)


_DEV_PUBLIC = {encode_public_key(development_private_key(name).public_key()) for name in SERVICE_NAMES}


@dataclass(frozen=True)
class ServiceKeyring:
    """One service's signing key and the public keys of the services it may hear from."""

    name: str
    private_key: Ed25519PrivateKey
    public_keys: Mapping[str, Ed25519PublicKey]

    def public_key_of(self, service: str) -> Ed25519PublicKey | None:
        return self.public_keys.get(service)


def development_key_in_use(private_key: str | None, public_keys: str | None) -> str | None:
    """Why these settings may not run in production (a missing or development key), or None."""
    if not private_key:
        return "SETRUM_SERVICE_KEY is not set (the development key, derived from the service's name, would be used)"
    if not public_keys:
        return "SETRUM_SERVICE_PUBLIC_KEYS is not set (the development keys would be trusted)"
    try:
        own = _decoded(private_key_from_text, private_key, "SETRUM_SERVICE_KEY")
        parsed = _parse_public_keys(public_keys)
    except ServiceKeyError as error:
        return str(error)
    own_public = encode_public_key(own.public_key())
    if own_public in _DEV_PUBLIC:
        return "SETRUM_SERVICE_KEY is a development key"
    trusted_dev = sorted(name for name, key in parsed.items() if encode_public_key(key) in _DEV_PUBLIC)
    if trusted_dev:
        return f"SETRUM_SERVICE_PUBLIC_KEYS trusts a development key for {', '.join(trusted_dev)}"
    return None


def _parse_public_keys(text: str) -> dict[str, Ed25519PublicKey]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ServiceKeyError("SETRUM_SERVICE_PUBLIC_KEYS must be a JSON object {service: public key}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ServiceKeyError("SETRUM_SERVICE_PUBLIC_KEYS must be a JSON object {service: public key}")
    return {name: _decoded(public_key_from_text, key, f"the public key of {name}") for name, key in data.items()}


def load_keyring(service: str, private_key: str | None, public_keys: str | None) -> ServiceKeyring:
    """The keyring of ``service`` from its settings; unset values fall back to the development keys
    (the settings' production check has refused that already in production)."""
    own = (
        _decoded(private_key_from_text, private_key, "SETRUM_SERVICE_KEY")
        if private_key
        else development_private_key(service)
    )
    if public_keys:
        peers = _parse_public_keys(public_keys)
    else:
        peers = {name: development_private_key(name).public_key() for name in SERVICE_NAMES}
    return ServiceKeyring(service, own, peers)


def private_key_variable(service: str) -> str:
    """Where a deployment keeps ``service``'s key (compose.yaml hands it to the service as SETRUM_SERVICE_KEY)."""
    return f"SETRUM_{service.upper()}_SERVICE_KEY"


def generate_deployment_keys(services: tuple[str, ...] = SERVICE_NAMES) -> dict[str, str]:
    """Fresh keys for a deployment: ``SETRUM_<SERVICE>_SERVICE_KEY`` for each service, and
    ``SETRUM_SERVICE_PUBLIC_KEYS`` (their public halves) for all of them."""
    keys = {name: Ed25519PrivateKey.generate() for name in services}
    variables = {private_key_variable(name): encode_private_key(key) for name, key in keys.items()}
    public = {name: encode_public_key(key.public_key()) for name, key in keys.items()}
    variables["SETRUM_SERVICE_PUBLIC_KEYS"] = json.dumps(public, separators=(",", ":"))
    return variables
