"""The one HTTP client our services use to call each other (router -> subgraphs, transactions ->
master and the biller).

:class:`HttpClient` sends a request with a bytes body and reads the whole answer into an
:class:`HttpAnswer`. Two paths under one contract:

* fast (``SETRUM_FASTPATH=on``): our keep-alive HTTP/1.1 pool (:mod:`.http11`);
* stock (``off``, or whenever a test transport or an in-process ASGI app is mounted):
  ``httpx.AsyncClient`` on its own transport.

On both: headers that could split or forge the request are dropped, the answer is capped in size
as sent and once decompressed (gzip/deflate bombs are refused with :class:`ResponseTooLarge`), a
timeout bounds the whole exchange, only idempotent methods are retried (by httpcore's or our pool's
rule), and failures arrive as httpx's exception types (``httpx.TimeoutException``,
``httpx.TransportError``), so callers handle one set. The wait counts as time spent on another
service, and a 503 as its back-pressure, for the overload limit (:mod:`setrum_common.elsewhere`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from ..elsewhere import QUEUED_HEADER, queued_seconds, waiting_elsewhere
from . import fastpath_enabled
from ._body import DEFAULT_MAX_RESPONSE_BYTES, ResponseRefused, ResponseTooLarge, decode_content
from .http11 import IDEMPOTENT_METHODS, Http11ConnectError, Http11Error, Http11Pool

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "HttpAnswer",
    "HttpClient",
    "ResponseRefused",
    "ResponseTooLarge",
]

_QUEUED_HEADER_BYTES = QUEUED_HEADER.encode()
# A forwarded header must never be able to split the request (CR/LF) or forge a name; framing
# and hop-by-hop headers are the client's own business.
_BAD_NAME = re.compile(r"[^!#$%&'*+.^_`|~0-9A-Za-z-]")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_SKIP = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "accept-encoding", "keep-alive", "upgrade", "te"}
)


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What callers read of an answer: the status, the media type and the (decoded) body."""

    status_code: int
    content: bytes
    content_type: str | None = None
    queued_s: float = 0.0  # how long the service held the request in its overload queue (QUEUED_HEADER)
    arrived_at: float | None = None  # when its last byte arrived (time.monotonic; the owned pool knows it)

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not JSON."""
        return orjson.loads(self.content)


def _clean(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in headers.items()
        if name and not _BAD_NAME.search(name) and not _BAD_VALUE.search(value) and name.lower() not in _SKIP
    }


class _NoCookies(httpx.Cookies):
    """Calls between services carry no cookies from one request to the next (a cookie one
    client's call received must never ride along on another client's call)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class _StockClient(httpx.AsyncClient):
    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:  # httpx's __init__ assigns it
        return None


class HttpClient:
    """Pooled requests to sibling services.

    ``fast``: None reads ``SETRUM_FASTPATH``. ``transport`` (tests: ``httpx.MockTransport``,
    ``httpx.ASGITransport``) carries every request; ``mounts`` maps an origin
    (``http://users.in-process``) to the transport for it. Both imply httpx for what they carry.
    ``headers`` go on every request (a request's own headers win).
    """

    def __init__(
        self,
        *,
        fast: bool | None = None,
        timeout_s: float = 10.0,
        connect_timeout_s: float | None = None,
        max_connections: int = 256,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.fast = fastpath_enabled() if fast is None else fast
        self._timeout_s = timeout_s
        self._connect_timeout_s = min(timeout_s, connect_timeout_s) if connect_timeout_s else timeout_s
        self._max_connections = max_connections
        self._limit = max_response_bytes
        self._headers = _clean(headers or {})
        self._mounted = tuple(mounts or ())
        self._pool_everything = self.fast and transport is None
        self._pool: Http11Pool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._stock = _StockClient(
            transport=transport
            or httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
            ),
            mounts=dict(mounts) if mounts else None,
            headers={"accept-encoding": "gzip, deflate"},  # what decode_content reads
            http2=False,
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes = b"",
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> HttpAnswer:
        """Send one request and read the whole answer. Raises ``httpx.TimeoutException`` when
        ``timeout_s`` (default: the client's) passes, ``httpx.TransportError`` otherwise."""
        timeout = timeout_s if timeout_s is not None else self._timeout_s
        send_headers = {**self._headers, **_clean(headers)} if headers else self._headers
        try:
            # Time spent on another service's answer is not this request's own, and its 503 is back-pressure
            # (both for the overload limit: setrum_common/elsewhere.py).
            with waiting_elsewhere() as wait:
                async with asyncio.timeout(timeout):
                    if self._pool_everything and not url.startswith(self._mounted):
                        answer = await self._fast(method, url, content, send_headers)
                    else:
                        answer = await self._httpx(method, url, content, send_headers, timeout)
                if answer.status_code == 503:
                    wait.refused()
                wait.queued(answer.queued_s)
                wait.answered_at(answer.arrived_at)
                return answer
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {timeout} s") from None

    async def post(
        self, url: str, content: bytes, headers: Mapping[str, str] | None = None, *, timeout_s: float | None = None
    ) -> HttpAnswer:
        return await self.request("POST", url, content=content, headers=headers, timeout_s=timeout_s)

    async def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, timeout_s: float | None = None
    ) -> HttpAnswer:
        return await self.request("GET", url, headers=headers, timeout_s=timeout_s)

    async def _fast(self, method: str, url: str, content: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        pool = self._pool
        loop = asyncio.get_running_loop()
        if pool is None or self._pool_loop is not loop:  # a pool's connections belong to one loop
            pool = self._pool = Http11Pool(
                max_connections_per_origin=self._max_connections, max_response_bytes=self._limit
            )
            self._pool_loop = loop
        try:
            answer = await pool.request(method, url, content, self._header_block(headers))
        except Http11ConnectError as error:
            raise httpx.ConnectError(str(error)) from None
        except Http11Error as error:
            raise httpx.RemoteProtocolError(str(error)) from None
        content_type = answer.headers.get(b"content-type")
        return HttpAnswer(
            answer.status,
            answer.body,
            content_type.decode("latin-1") if content_type else None,
            queued_seconds(answer.headers.get(_QUEUED_HEADER_BYTES)),
            answer.arrived_at,
        )

    @staticmethod
    def _header_block(headers: Mapping[str, str]) -> bytes:
        return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1", "replace")

    async def _httpx(
        self, method: str, url: str, content: bytes, headers: Mapping[str, str], timeout: float
    ) -> HttpAnswer:
        try:
            return await self._httpx_once(method, url, content, headers, timeout)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            # httpcore sends nothing twice; the pool's rule, for the same contract: an idempotent
            # request whose connection died under it is sent once more, a POST never.
            if method not in IDEMPOTENT_METHODS:
                raise
        return await self._httpx_once(method, url, content, headers, timeout)

    async def _httpx_once(
        self, method: str, url: str, content: bytes, headers: Mapping[str, str], timeout: float
    ) -> HttpAnswer:
        request = self._stock.build_request(
            method,
            url,
            content=content or None,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=self._connect_timeout_s),
        )
        response = await self._stock.send(request, stream=True)
        try:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self._limit:
                raise ResponseTooLarge(f"response body larger than {self._limit} bytes (Content-Length {declared})")
            chunks: list[bytes] = []
            size = 0
            try:
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > self._limit:
                        raise ResponseTooLarge(f"response body larger than {self._limit} bytes")
                    chunks.append(chunk)
            except httpx.StreamConsumed:  # a test transport's ready-made response, already decoded by httpx
                return HttpAnswer(
                    response.status_code,
                    decode_content(response.content, None, self._limit),
                    response.headers.get("content-type"),
                )
        finally:
            await response.aclose()
        body = decode_content(b"".join(chunks), response.headers.get("content-encoding"), self._limit)
        return HttpAnswer(
            response.status_code,
            body,
            response.headers.get("content-type"),
            queued_seconds(response.headers.get(QUEUED_HEADER)),
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        await self._stock.aclose()
