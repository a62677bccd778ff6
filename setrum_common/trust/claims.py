"""The verified client claims as they travel from the router to a subgraph, and the Viewer a
subgraph builds from them.

The router puts the claims it verified at the edge in ``x-setrum-claims`` (base64url of compact,
key-sorted JSON); its signature covers that header's SHA-256 (:mod:`.router_signature`), so a
subgraph that checked the signature can trust the claims without seeing the client's token.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Mapping
from typing import Any

import orjson

from ..auth import ANONYMOUS, Role, Viewer
from ..errors import DomainError, ErrorCode
from .codec import b64url, unb64url

__all__ = ["CLAIMS_HEADER", "decode_claims", "encode_claims", "viewer_from_claims"]

CLAIMS_HEADER = "x-setrum-claims"
_MAX_CLAIMS_BYTES = 8192


def encode_claims(claims: Mapping[str, Any]) -> str:
    raw = orjson.dumps(claims, option=orjson.OPT_SORT_KEYS)
    return b64url(raw)


def decode_claims(value: str) -> dict[str, Any]:
    """The claims object; ``ValueError`` when the header is not one."""
    if len(value) > _MAX_CLAIMS_BYTES:
        raise ValueError("claims header too large")
    try:
        decoded = orjson.loads(unb64url(value))
    except (binascii.Error, orjson.JSONDecodeError) as error:
        raise ValueError("claims header is not base64url JSON") from error
    if not isinstance(decoded, dict):
        raise ValueError("claims header is not a JSON object")
    return decoded


def viewer_from_claims(claims: Mapping[str, Any] | None, *, skew_s: float = 30.0) -> Viewer:
    """The caller the router vouched for (``None``: anonymous). Service identities never reach
    GraphQL (the router refuses them at the edge), so one arriving here is refused too."""
    if claims is None:
        return ANONYMOUS
    subject = claims.get("sub")
    try:
        role = Role(str(claims.get("role")))  # SERVICE is no role of a viewer: refused here too
    except ValueError:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Token carries an unknown role") from None
    if not isinstance(subject, str | int) or isinstance(subject, bool):
        raise DomainError(ErrorCode.UNAUTHENTICATED, "This token cannot be used here")
    expires = claims.get("exp")
    if isinstance(expires, int | float) and expires + skew_s < time.time():
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Token expired: sign in again")
    version, session_id = claims.get("sv", 0), claims.get("sid")
    return Viewer(
        subject=str(subject),
        role=role,
        session_id=session_id if isinstance(session_id, str) else None,
        session_version=version if isinstance(version, int) and not isinstance(version, bool) else -1,
    )
