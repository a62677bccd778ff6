"""The one way transactions talks HTTP to a sibling service (master and the biller).

Both are called on the same terms: a pooled keep-alive connection set per process, a total timeout
with a shorter connect timeout, JSON, our user agent, and the caller's traceparent carried on.

POSTs (the quote, the purchase: two per token sold) are the hot path. On the real network they go
straight to the router's keep-alive HTTP/1.1 pool on asyncio protocols
(:class:`router.subgraph_client.Http11Pool`) as bytes: httpx's client machinery (auth, redirects,
cookies, hooks) cost about 1 ms of CPU per call, httpcore/anyio ~0.5 ms more, and even its
Request/Response/URL/Headers models cost more than the exchange itself (~0.3 ms); a signed
service-to-service POST needs none of it. The pool retries only a reused connection the server
had closed before answering anything, and both POSTs are idempotent (a quote reads, a biller
purchase is keyed by our reference). GETs go through httpx's own transport. Errors surface as
httpx's exception types either way, so callers handle one set. Tests pass any ``httpx`` transport
(``MockTransport``, ``ASGITransport``), which then carries every request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from router.subgraph_client import Http11Error, Http11Pool
from setrum_common.tracing import inject_headers

__all__ = ["DEFAULT_LIMITS", "ServiceHttp", "ServiceResponse"]

_MAX_CONNECTIONS = 50
DEFAULT_LIMITS = httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=20)
_HEADERS = {"accept": "application/json", "user-agent": "setrum-transactions"}
_BASE_HEADERS = b"".join(f"{k}: {v}\r\n".encode() for k, v in _HEADERS.items())


@dataclass(frozen=True, slots=True)
class ServiceResponse:
    """What callers read of an answer: the status and the JSON body."""

    status_code: int
    content: bytes

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not JSON."""
        return orjson.loads(self.content)


class ServiceHttp:
    """Requests to one sibling service; ``transport`` lets tests talk to fakes or ASGI apps."""

    def __init__(
        self, *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None, base_url: str = ""
    ) -> None:
        self._test_transport = transport
        self._transport = transport or httpx.AsyncHTTPTransport(limits=DEFAULT_LIMITS)
        self._pool: Http11Pool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)).as_dict()

    def path(self, url: str) -> str:
        """The request target of ``url`` (absolute, or a path under the base URL) as sent on the wire."""
        return urlsplit(self._base_url + url).path

    async def post(self, url: str, content: bytes, headers: dict[str, str]) -> ServiceResponse:
        """POST ``content``; the whole answer is read before this returns. Carries the current
        traceparent. Raises ``httpx.TimeoutException`` / ``httpx.TransportError`` like httpx does."""
        if self._test_transport is not None:
            response = await self.send(self.request("POST", url, content=content, headers=headers))
            return ServiceResponse(response.status_code, response.content)
        pool = self._pool
        loop = asyncio.get_running_loop()
        if pool is None or self._pool_loop is not loop:  # a pool's connections belong to one loop
            pool = self._pool = Http11Pool(max_connections_per_origin=_MAX_CONNECTIONS)
            self._pool_loop = loop
        try:
            async with asyncio.timeout(self._timeout_s):
                answer = await pool.post(self._base_url + url, content, inject_headers(headers), _BASE_HEADERS)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer in time") from None
        except Http11Error as error:
            raise httpx.ConnectError(str(error)) from None
        return ServiceResponse(answer.status, answer.body)

    def request(
        self, method: str, url: str, *, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Request:
        """``url`` is absolute, or a path under the base URL. Carries the current traceparent."""
        all_headers = inject_headers({**_HEADERS, **(headers or {})})
        return httpx.Request(
            method, self._base_url + url, content=content, headers=all_headers, extensions={"timeout": self._timeout}
        )

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send through httpx and read the whole body (the connection goes back to the pool first)."""
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        await self._transport.aclose()
