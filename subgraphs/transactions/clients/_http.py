"""The one way transactions talks HTTP to a sibling service (master and the biller).

Both are called on the same terms: a pooled keep-alive connection set per process, a total timeout
with a shorter connect timeout, JSON, our user agent, and the caller's traceparent carried on.

Requests go straight to the httpx *transport* (its connection pool, timeouts and error mapping)
rather than through ``httpx.AsyncClient.send``: the client's auth, redirect, cookie-jar and
event-hook machinery cost about 1 ms of CPU per call, more than the HTTP exchange itself, and a
signed service-to-service POST uses none of it. Tests still pass any ``httpx`` transport
(``MockTransport``, ``ASGITransport``).
"""

from __future__ import annotations

import httpx

from setrum_common.tracing import inject_headers

__all__ = ["DEFAULT_LIMITS", "ServiceHttp"]

DEFAULT_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20)
_HEADERS = {"accept": "application/json", "user-agent": "setrum-transactions"}


class ServiceHttp:
    """Pre-built requests to one sibling service; ``transport`` lets tests talk to fakes or ASGI apps."""

    def __init__(self, *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None, base_url: str = "") -> None:
        self._transport = transport or httpx.AsyncHTTPTransport(limits=DEFAULT_LIMITS)
        self._base_url = base_url
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)).as_dict()

    def request(
        self, method: str, url: str, *, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Request:
        """``url`` is absolute, or a path under the base URL. Carries the current traceparent."""
        all_headers = inject_headers({**_HEADERS, **(headers or {})})
        return httpx.Request(
            method, self._base_url + url, content=content, headers=all_headers, extensions={"timeout": self._timeout}
        )

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send and read the whole body (the connection goes back to the pool before we return)."""
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()
