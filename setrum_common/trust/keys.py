"""Ed25519 keys for router -> subgraph signing: loading a router's private key and a subgraph's
keyring of router public keys, from environment values or files (never from code).

Formats: a key is what :mod:`.codec` reads (PEM, or its 32 raw bytes in base64 or base64url); a keyring
is ``kid=<public key>`` pairs separated by commas or whitespace, or a JSON object ``{"kid": "<public key>"}``.
``python -m setrum_common.trust keygen`` prints a fresh pair (padded base64).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .codec import KeyTextError, Spelling, key_text, private_key_from_text, public_key_from_text

__all__ = [
    "KeyConfigError",
    "check_kid",
    "generate_private_key",
    "load_private_key",
    "parse_keyring",
    "private_key_text",
    "public_key_text",
]

_KID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class KeyConfigError(ValueError):
    """A key or keyring that cannot be used (the message says why, never the key)."""


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_text(key: Ed25519PrivateKey) -> str:
    """The base64 of the 32-byte seed (what ``load_private_key`` reads back)."""
    return key_text(key, Spelling.BASE64)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    return key_text(key.public_key() if isinstance(key, Ed25519PrivateKey) else key, Spelling.BASE64)


def load_private_key(text: str | None = None, *, file: Path | None = None) -> Ed25519PrivateKey:
    """From the value itself or a file holding it."""
    value = file.read_text(encoding="utf-8") if file is not None else (text or "")
    try:
        return private_key_from_text(value)
    except KeyTextError as error:
        raise KeyConfigError(f"the signing key {error}") from None


def parse_keyring(text: str | None = None, *, file: Path | None = None) -> dict[str, Ed25519PublicKey]:
    """kid -> public key; empty when nothing is configured."""
    value = (file.read_text(encoding="utf-8") if file is not None else (text or "")).strip()
    if not value:
        return {}
    entries: Mapping[str, object]
    if value.startswith("{"):
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError:
            raise KeyConfigError("the router keyring is not valid JSON") from None
        if not isinstance(loaded, dict):
            raise KeyConfigError("a JSON router keyring is an object {kid: public key}")
        entries = loaded
    else:
        pairs = [p for p in re.split(r"[,\s]+", value) if p]
        if not all("=" in p for p in pairs):
            raise KeyConfigError("the router keyring is 'kid=<public key>' pairs")
        entries = dict(p.split("=", 1) for p in pairs)
    keyring: dict[str, Ed25519PublicKey] = {}
    for kid, encoded in entries.items():
        if not _KID.match(kid) or not isinstance(encoded, str):
            raise KeyConfigError(f"router keyring: bad key id {kid!r}")
        try:
            keyring[kid] = public_key_from_text(encoded)
        except KeyTextError as error:
            raise KeyConfigError(f"router keyring: the key {kid!r} {error}") from None
    return keyring


def check_kid(kid: str) -> str:
    if not _KID.match(kid):
        raise KeyConfigError(f"bad key id {kid!r}: 1-64 of A-Z a-z 0-9 . _ : -")
    return kid
