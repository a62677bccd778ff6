"""Trust between our services: the router's Ed25519 signature on every subgraph request, the
verified client claims it carries; the subgraph-side guard is :mod:`.guard` (imported by the
services only, so the router does not load their web stack). Why signatures and not mTLS:
docs/trust.md. Between services (not through the router): each service's own key
(:mod:`.service_keys`), the token it signs for one call (:mod:`.service_tokens`) and the callers each
internal route accepts (:mod:`.internal_routes`)."""

from __future__ import annotations

from .claims import CLAIMS_HEADER, decode_claims, encode_claims, viewer_from_claims
from .keys import (
    KeyConfigError,
    generate_private_key,
    load_private_key,
    parse_keyring,
    private_key_text,
    public_key_text,
)
from .router_signature import DEFAULT_WINDOW_S, SIGNATURE_HEADER, RouterSigner, RouterVerifier, SignatureRejected

__all__ = [
    "CLAIMS_HEADER",
    "DEFAULT_WINDOW_S",
    "SIGNATURE_HEADER",
    "KeyConfigError",
    "RouterSigner",
    "RouterVerifier",
    "SignatureRejected",
    "decode_claims",
    "encode_claims",
    "generate_private_key",
    "load_private_key",
    "parse_keyring",
    "private_key_text",
    "public_key_text",
    "viewer_from_claims",
]
