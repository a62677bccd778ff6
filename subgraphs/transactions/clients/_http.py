"""The one way transactions talks HTTP to a sibling service (master and the biller).

Both are called on the same terms, through the services' shared client
(:class:`setrum_common.fastpath.http.HttpClient`: our keep-alive HTTP/1.1 pool or httpx, by
``SETRUM_FASTPATH``): a pooled connection set per process, a timeout on the whole exchange with a
shorter connect timeout, JSON, our user agent, and the caller's traceparent carried on. Failures
surface as httpx's exception types (``httpx.TimeoutException``, ``httpx.TransportError``) on either
path. A POST is never sent twice by the transport; the callers' own rules (the quote reads, a biller
purchase is keyed by our reference and settled later) decide what happens after a failure. Tests
pass any ``httpx`` transport (``MockTransport``, ``ASGITransport``), which then carries every request.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from setrum_common.fastpath.http import HttpAnswer, HttpClient
from setrum_common.tracing import inject_headers

__all__ = ["ServiceHttp", "ServiceResponse"]

_MAX_CONNECTIONS = 50
_MAX_RESPONSE_BYTES = 1024 * 1024  # a quote or a token: a few hundred bytes
_HEADERS = {"accept": "application/json", "user-agent": "setrum-transactions"}

ServiceResponse = HttpAnswer
"""What callers read of an answer: the status and the JSON body."""


class ServiceHttp:
    """Requests to one sibling service; ``transport`` lets tests talk to fakes or ASGI apps."""

    def __init__(
        self,
        *,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str = "",
        max_response_bytes: int = _MAX_RESPONSE_BYTES,
    ) -> None:
        self._base_url = base_url
        self._client = HttpClient(
            timeout_s=timeout_s,
            connect_timeout_s=5.0,
            max_connections=_MAX_CONNECTIONS,
            max_response_bytes=max_response_bytes,
            headers=_HEADERS,
            transport=transport,
        )

    def path(self, url: str) -> str:
        """The request target of ``url`` (absolute, or a path under the base URL) as sent on the wire."""
        parts = urlsplit(self._base_url + url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    async def post(self, url: str, content: bytes, headers: dict[str, str]) -> ServiceResponse:
        """POST ``content``; the whole answer is read before this returns. Carries the current traceparent."""
        return await self._client.post(self._base_url + url, content, inject_headers(headers))

    async def get(self, url: str, headers: dict[str, str]) -> ServiceResponse:
        """GET; the whole answer is read before this returns. Carries the current traceparent."""
        return await self._client.get(self._base_url + url, inject_headers(headers))

    async def aclose(self) -> None:
        await self._client.aclose()
