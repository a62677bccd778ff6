"""Bytes as text for the trust layer: the one place raw Ed25519 keys, signatures and the claims header
become text and back.

One decoder reads every key the settings hold (:func:`private_key_from_text`, :func:`public_key_from_text`):
PEM (PKCS#8 private key, or SubjectPublicKeyInfo public key), or the 32 raw bytes (a private key's seed, or
the public point) in standard base64 or base64url, padded or not. It accepts the union of what the router keys
(``ROUTER_SIGNING__KEY``, ``SETRUM_ROUTER_PUBLIC_KEYS``) and the service keys (``SETRUM_SERVICE_KEY``,
``SETRUM_SERVICE_PUBLIC_KEYS``) were ever written in, so every deployed value keeps loading.

Writing keeps the spelling each kind has always been printed in (:class:`Spelling`): router keys padded
standard base64 (``python -m setrum_common.trust keygen``), service keys unpadded base64url like the
signatures and the claims header (``python -m setrum keys``), as JWTs spell bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from enum import Enum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

__all__ = [
    "KeyTextError",
    "Spelling",
    "b64url",
    "key_text",
    "private_key_from_text",
    "public_key_from_text",
    "unb64url",
]

RAW_KEY_BYTES = 32
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)=*$")  # one alphabet or the other, never mixed


class Spelling(Enum):
    """How a key is written out (reading accepts either)."""

    BASE64 = "base64"  # standard alphabet, padded (router keys)
    BASE64URL = "base64url"  # URL alphabet, unpadded (service keys)


class KeyTextError(ValueError):
    """Text that is not an Ed25519 key. The message says why without showing the key; the callers put
    their setting's name in front of it."""


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """The bytes of base64url text with or without its padding (``binascii.Error`` when it is not)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_text(key: Ed25519PrivateKey | Ed25519PublicKey, spelling: Spelling) -> str:
    """A private key's 32-byte seed, or a public key's 32 bytes, as text."""
    if isinstance(key, Ed25519PrivateKey):
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    else:
        raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode() if spelling is Spelling.BASE64 else b64url(raw)


def _raw_key(text: str) -> bytes:
    if not _BASE64.match(text):
        raise KeyTextError("is neither PEM nor base64/base64url")
    unpadded = text.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyTextError("is neither PEM nor base64/base64url") from None
    if len(raw) != RAW_KEY_BYTES:
        raise KeyTextError(f"must be {RAW_KEY_BYTES} bytes (a private key's seed or the public key), not {len(raw)}")
    return raw


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """A private key from PEM (PKCS#8, unencrypted) or its base64/base64url seed."""
    value = text.strip()
    if not value.startswith("-----BEGIN"):
        return Ed25519PrivateKey.from_private_bytes(_raw_key(value))
    try:
        key = load_pem_private_key(value.encode(), password=None)
    except (ValueError, TypeError):
        raise KeyTextError("is not a readable PEM private key (PKCS#8, unencrypted)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyTextError("must be an Ed25519 key")
    return key


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key from PEM (SubjectPublicKeyInfo) or its base64/base64url 32 bytes."""
    value = text.strip()
    if not value.startswith("-----BEGIN"):
        return Ed25519PublicKey.from_public_bytes(_raw_key(value))
    try:
        key = load_pem_public_key(value.encode())
    except (ValueError, TypeError):
        raise KeyTextError("is not a readable PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyTextError("must be an Ed25519 key")
    return key
