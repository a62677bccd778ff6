"""CSRF prevention, as Apollo Router and Apollo Server do it.

A browser sends a "simple" request (GET, or a POST whose content type is form data or plain text)
to any origin without asking first (no CORS preflight), with the user's cookies. Such a request
must carry one of the configured headers, which a page can only add after a preflight that our
CORS policy answers. JSON POSTs (GraphiQL, the web app) are never simple, so they pass untouched.
Refused requests are 400 ``CSRF_ERROR`` before the body is read or anything is parsed.
"""

from __future__ import annotations

from collections.abc import Sequence

from router.errors import BadRequest
from router.http.context import Handler, Layer, RouterRequest, RouterResponse

__all__ = ["NON_PREFLIGHTED_CONTENT_TYPES", "csrf_layer", "needs_preflight_header"]

# https://fetch.spec.whatwg.org/#cors-safelisted-request-header
NON_PREFLIGHTED_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})


def needs_preflight_header(content_type: str | None) -> bool:
    """Whether a browser could have sent a request with this content type without a preflight."""
    if content_type is None:
        return True
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence in NON_PREFLIGHTED_CONTENT_TYPES


def csrf_layer(required_headers: Sequence[str]) -> Layer:
    names = tuple(h.lower() for h in required_headers)
    message = (
        "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Send a "
        "'content-type' header other than application/x-www-form-urlencoded, multipart/form-data or "
        f"text/plain, or a non-empty value for one of these headers: {', '.join(names)}"
    )

    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            headers = request.http.headers
            if needs_preflight_header(headers.get("content-type")) and not any(headers.get(n) for n in names):
                raise BadRequest(message, code="CSRF_ERROR")
            return await inner(request)

        return handle

    return wrap
