"""The one way transactions talks HTTP to a sibling service (master and the biller).

Both are called on the same terms: a pooled keep-alive connection set per process, a total timeout
with a shorter connect timeout, JSON, our user agent, and the caller's traceparent carried on.

Requests go straight to the httpx *transport* (its connection pool, timeouts and error mapping)
rather than through ``httpx.AsyncClient.send``: the client's auth, redirect, cookie-jar and
event-hook machinery cost about 1 ms of CPU per call, more than the HTTP exchange itself, and a
signed service-to-service POST uses none of it. On the real network, POSTs (the quote, the
purchase) go through the router's keep-alive HTTP/1.1 pool on asyncio protocols
(:class:`router.subgraph_client.KeepAliveTransport`), which skips httpcore/anyio as
well (~0.5 ms CPU per call here); it retries only a reused connection the server had closed
before answering anything, and both POSTs are idempotent (a quote reads, a biller purchase is
keyed by our reference). GETs keep httpx's own transport. Tests still pass any ``httpx``
transport (``MockTransport``, ``ASGITransport``), which then carries every request.
"""

from __future__ import annotations

import httpx

from router.subgraph_client import KeepAliveTransport
from setrum_common.tracing import inject_headers

__all__ = ["DEFAULT_LIMITS", "ServiceHttp"]

_MAX_CONNECTIONS = 50
DEFAULT_LIMITS = httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=20)
_HEADERS = {"accept": "application/json", "user-agent": "setrum-transactions"}


class ServiceHttp:
    """Pre-built requests to one sibling service; ``transport`` lets tests talk to fakes or ASGI apps."""

    def __init__(
        self, *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None, base_url: str = ""
    ) -> None:
        self._transport = transport or httpx.AsyncHTTPTransport(limits=DEFAULT_LIMITS)
        self._post_transport: httpx.AsyncBaseTransport = (
            self._transport if transport is not None else KeepAliveTransport(max_connections_per_origin=_MAX_CONNECTIONS)
        )
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
        transport = self._post_transport if request.method == "POST" else self._transport
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        if self._post_transport is not self._transport:
            await self._post_transport.aclose()
        await self._transport.aclose()
