"""Bytes as text for the trust layer: the one place raw Ed25519 keys, signatures and the claims header
become text and back.

Two spellings, each kept as deployed. Router keys (``ROUTER_SIGNING__KEY``, ``SETRUM_ROUTER_PUBLIC_KEYS``) are
standard base64 with padding, read strictly (``python -m setrum_common.trust keygen`` prints them). Service keys
(``SETRUM_SERVICE_KEY``, ``SETRUM_SERVICE_PUBLIC_KEYS``), signatures and the claims header are base64url without
padding, as JWTs spell bytes. A raw Ed25519 key is 32 bytes: the seed of a private key, or the public point.
"""

from __future__ import annotations

import base64
import binascii
from enum import Enum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

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


class Spelling(Enum):
    BASE64 = "base64"  # standard alphabet, padded, strict (router keys)
    BASE64URL = "base64url"  # URL alphabet, padding optional (service keys)


class KeyTextError(ValueError):
    """Text that is not a raw Ed25519 key in the spelling asked for; ``wrong_length`` tells the two causes apart
    (the callers word them for their own settings, never showing the key)."""

    def __init__(self, spelling: Spelling, *, wrong_length: bool) -> None:
        super().__init__(f"not {RAW_KEY_BYTES} bytes" if wrong_length else f"not {spelling.value}")
        self.wrong_length = wrong_length


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


def _raw_key(text: str, spelling: Spelling) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True) if spelling is Spelling.BASE64 else unb64url(text.strip())
    except (binascii.Error, ValueError):
        raise KeyTextError(spelling, wrong_length=False) from None
    if len(raw) != RAW_KEY_BYTES:
        raise KeyTextError(spelling, wrong_length=True)
    return raw


def private_key_from_text(text: str, spelling: Spelling) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_raw_key(text, spelling))


def public_key_from_text(text: str, spelling: Spelling) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw_key(text, spelling))
