"""An httpx transport on the router's own keep-alive HTTP/1.1 pool.

The router talks to subgraphs through ``httpx.AsyncClient``; only the transport underneath is
ours. httpx's default transport (httpcore on anyio) costs several hundred microseconds of CPU
per request, which would dominate a router whose own work per fetch is ~100 µs. httpx makes
the transport its documented seam, so we keep its client API, timeouts and error types and
replace only the wire code with :mod:`._http11` (POST, Content-Length or chunked responses,
connection reuse).
"""

from __future__ import annotations

import asyncio
import re

import httpx

from ._http11 import Http11Error, Http11Pool

__all__ = ["KeepAliveTransport"]

# A forwarded header must never be able to split the request (CR/LF) or forge a name.
_UNSAFE = re.compile(rb"[\r\n:\s]")
_UNSAFE_VALUE = re.compile(rb"[\r\n]")
_SKIP = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection", b"accept-encoding"})


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """Pooled keep-alive HTTP/1.1 for POSTs to subgraphs (one pool per event loop)."""

    def __init__(self, *, max_connections_per_origin: int = 256) -> None:
        self._max = max_connections_per_origin
        self._pool: Http11Pool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Rendering an httpx.URL to text costs more than sending the request: remember it per
        # URL object (subgraph clients reuse one parsed URL per subgraph).
        self._url_text: dict[int, tuple[httpx.URL, str]] = {}

    def _text(self, url: httpx.URL) -> str:
        cached = self._url_text.get(id(url))
        if cached is not None and cached[0] is url:
            return cached[1]
        if len(self._url_text) > 256:
            self._url_text.clear()
        text = str(url)
        self._url_text[id(url)] = (url, text)
        return text

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            raise httpx.UnsupportedProtocol("the subgraph transport only sends POST requests", request=request)
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None or self._loop is not loop:
            pool = self._pool = Http11Pool(max_connections_per_origin=self._max)
            self._loop = loop
        headers = b"".join(
            k + b": " + v + b"\r\n"
            for k, v in request.headers.raw
            if k.lower() not in _SKIP and not _UNSAFE.search(k) and not _UNSAFE_VALUE.search(v)
        )
        body = request.content if isinstance(request.stream, httpx.ByteStream) else await request.aread()
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            async with asyncio.timeout(timeout):
                response = await pool.post(self._text(request.url), body, {}, headers)
        except TimeoutError:
            raise httpx.ReadTimeout("subgraph did not answer in time", request=request) from None
        except Http11Error as exc:
            raise httpx.ConnectError(str(exc), request=request) from None
        # Only the media type matters to the router; copying every header costs more than the fetch.
        content_type = response.headers.get(b"content-type")
        return httpx.Response(
            response.status,
            headers=[(b"content-type", content_type)] if content_type else None,
            content=response.body,
            request=request,
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
