"""Response bodies within limits: the size cap and gzip/deflate decoding shared by both HTTP paths.

A peer (or something posing as one) can answer with an endless body or a tiny compressed body that
inflates to gigabytes. Both the wire size and the decoded size are capped, and decoding stops as soon
as the cap is passed, so memory never holds more than the cap plus one read.
"""

from __future__ import annotations

import zlib

import httpx

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "ResponseRefused", "ResponseTooLarge", "decode_content"]

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class ResponseRefused(httpx.TransportError):
    """The peer's answer was refused: over a size limit, or a content coding we cannot decode."""


class ResponseTooLarge(ResponseRefused):
    """The body (as sent, or once decompressed) is larger than the configured cap."""


def decode_content(body: bytes, encoding: str | None, limit: int) -> bytes:
    """``body`` decoded per its ``Content-Encoding`` (identity, gzip, deflate), at most ``limit`` bytes."""
    if len(body) > limit:
        raise ResponseTooLarge(f"response body larger than {limit} bytes")
    coding = (encoding or "").strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        wbits = 31
    elif coding == "deflate":
        # RFC 9110 says zlib-wrapped; some servers send raw deflate. The zlib header's check bits tell.
        wbits = 15 if len(body) >= 2 and (body[0] & 0x0F) == 8 and (body[0] << 8 | body[1]) % 31 == 0 else -15
    else:
        raise ResponseRefused(f"unsupported content-encoding {coding!r}")
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(body, limit + 1)
    except zlib.error:
        raise ResponseRefused(f"response body is not valid {coding}") from None
    if len(out) > limit or decoder.unconsumed_tail:
        raise ResponseTooLarge(f"decompressed response body larger than {limit} bytes")
    return out
