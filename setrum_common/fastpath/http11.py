"""A small keep-alive HTTP/1.1 client on asyncio protocols: the fast path of :mod:`.http`.

Why not httpx here: per request httpx+httpcore+anyio cost about a millisecond of CPU (layers of
abstractions, plus a failing ``import sniffio`` probe on every request when sniffio is absent),
which dominates a router whose work per fetch is otherwise ~100 µs. This client does only what a
call between our services needs: send a request with a body, read a Content-Length, chunked or
close-delimited response within a size cap (decoded by :func:`._body.decode_content`), keep the
connection for the next request.

Retries: a reused keep-alive connection may turn out to have been closed by the server. Only an
idempotent request (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, PUT, DELETE, TRACE) is sent again on a
fresh connection, and only if nothing of an answer had arrived. A POST never is: the server may
have acted on it before the connection died, and a GraphQL POST may be a mutation.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
import time
from typing import cast
from urllib.parse import urlsplit

from ._body import DEFAULT_MAX_RESPONSE_BYTES, ResponseTooLarge, decode_content

__all__ = ["IDEMPOTENT_METHODS", "Http11ConnectError", "Http11Error", "Http11Pool", "HttpResponse"]

_IDLE_TTL_S = 2.0  # below common server keep-alive timeouts (Node 5 s, uvicorn 5 s)
_MAX_HEADER_BYTES = 64 * 1024
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


class Http11Error(Exception):
    """Transport-level failure (reset, malformed response, closed mid-answer)."""


class Http11ConnectError(Http11Error):
    """The connection could not be opened: the request was never sent."""


class HttpResponse:
    """``arrived_at``: when its last bytes arrived (``time.monotonic()``), before the reader ran again."""

    __slots__ = ("arrived_at", "body", "headers", "status")

    def __init__(self, status: int, headers: dict[bytes, bytes], body: bytes, arrived_at: float) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.arrived_at = arrived_at


class _Conn(asyncio.Protocol):
    __slots__ = ("transport", "buf", "waiter", "lost", "last_used", "received_any", "keep_alive", "arrived_at")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[None] | None = None
        self.lost = False
        self.last_used = time.monotonic()
        self.received_any = False
        self.keep_alive = True
        self.arrived_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self.received_any = True
        self.arrived_at = time.monotonic()  # the reader runs later; on a busy loop, much later
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _more(self) -> bool:
        """Wait for more bytes; False when the connection is gone."""
        if self.lost:
            return False
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None
        return not self.lost or bool(self.buf)

    async def request(self, head: bytes, body: bytes, *, limit: int, head_only: bool) -> HttpResponse:
        assert self.transport is not None
        self.received_any = False
        self.buf.clear()
        self.transport.write(head + body)
        status, headers = await self._read_head()
        body_out = await self._read_body(status, headers, limit, head_only)
        encoding = headers.get(b"content-encoding")
        if encoding is not None:
            body_out = decode_content(body_out, encoding.decode("latin-1"), limit)
        return HttpResponse(status, headers, body_out, self.arrived_at)

    async def _read_head(self) -> tuple[int, dict[bytes, bytes]]:
        """Status line + headers (and whether the connection stays open)."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > _MAX_HEADER_BYTES:
                raise Http11Error("response headers too large")
            if not await self._more() and self.buf.find(b"\r\n\r\n") < 0:
                raise Http11Error("connection closed before response")
        lines = bytes(self.buf[:end]).split(b"\r\n")
        del self.buf[: end + 4]
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise Http11Error("malformed status line")
        try:
            status = int(parts[1])
        except ValueError:
            raise Http11Error("malformed status line") from None
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if parts[0] == b"HTTP/1.0" or headers.get(b"connection", b"").lower() == b"close":
            self.keep_alive = False
        return status, headers

    async def _read_body(self, status: int, headers: dict[bytes, bytes], limit: int, head_only: bool) -> bytes:
        if head_only or status < 200 or status in (204, 304):
            return b""  # no body by definition (RFC 9112 §6.3)
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            return await self._read_chunked(limit)
        length = headers.get(b"content-length")
        if length is not None:
            return await self._read_length(length, limit)
        # Delimited by close.
        while await self._more():
            if len(self.buf) > limit:
                raise ResponseTooLarge(f"response body larger than {limit} bytes")
            if self.lost:
                break
        body = bytes(self.buf)
        self.buf.clear()
        self.keep_alive = False
        return body

    async def _read_length(self, length: bytes, limit: int) -> bytes:
        try:
            n = int(length)
        except ValueError:
            raise Http11Error("malformed Content-Length") from None
        if n < 0:
            raise Http11Error("malformed Content-Length")
        if n > limit:  # refused before reading a byte of it
            raise ResponseTooLarge(f"response body larger than {limit} bytes (Content-Length {n})")
        while len(self.buf) < n:
            if not await self._more():
                raise Http11Error("connection closed mid-body")
        body = bytes(self.buf[:n])
        del self.buf[:n]
        return body

    async def _read_chunked(self, limit: int) -> bytes:
        out = bytearray()
        while True:
            while (i := self.buf.find(b"\r\n")) < 0:
                if len(self.buf) > _MAX_HEADER_BYTES:
                    raise Http11Error("malformed chunk size line")
                if not await self._more():
                    raise Http11Error("connection closed in chunked body")
            try:
                size = int(bytes(self.buf[:i]).split(b";", 1)[0], 16)
            except ValueError:
                raise Http11Error("malformed chunk size") from None
            del self.buf[: i + 2]
            if size < 0:
                raise Http11Error("malformed chunk size")
            if size == 0:
                # Optional trailers, then an empty line.
                while True:
                    if self.buf.startswith(b"\r\n"):
                        del self.buf[:2]
                        return bytes(out)
                    j = self.buf.find(b"\r\n\r\n")
                    if j >= 0:
                        del self.buf[: j + 4]
                        return bytes(out)
                    if not await self._more():
                        return bytes(out)
            if len(out) + size > limit:
                raise ResponseTooLarge(f"response body larger than {limit} bytes")
            while len(self.buf) < size + 2:
                if not await self._more():
                    raise Http11Error("connection closed in chunked body")
            out += self.buf[:size]
            del self.buf[: size + 2]

    def close(self) -> None:
        if self.transport is not None and not self.lost:
            self.transport.close()
        self.lost = True


class _Origin:
    __slots__ = ("host", "port", "ssl", "idle", "sem", "host_header")

    def __init__(self, host: str, port: int, use_ssl: bool, max_connections: int) -> None:
        self.host = host
        self.port = port
        self.ssl = _ssl.create_default_context() if use_ssl else None
        self.idle: list[_Conn] = []
        self.sem = asyncio.Semaphore(max_connections)
        self.host_header = host if port in (80, 443) else f"{host}:{port}"


class Http11Pool:
    """Keep-alive connection pools per origin. One instance per event loop."""

    def __init__(
        self, *, max_connections_per_origin: int = 256, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    ) -> None:
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._max = max_connections_per_origin
        self._limit = max_response_bytes
        self._heads: dict[tuple[str, str], tuple[_Origin, bytes]] = {}

    def _prepare(self, method: str, url: str) -> tuple[_Origin, bytes]:
        cached = self._heads.get((method, url))
        if cached is not None:
            return cached
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise Http11ConnectError(f"unsupported URL {url!r}")
        if not method.isalpha() or not method.isupper():
            raise Http11ConnectError(f"unsupported method {method!r}")
        port = parts.port or (443 if scheme == "https" else 80)
        key = (scheme, parts.hostname, port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(parts.hostname, port, scheme == "https", self._max)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if any(c in target for c in " \r\n"):
            raise Http11ConnectError(f"unsupported URL {url!r}")
        prefix = f"{method} {target} HTTP/1.1\r\nHost: {origin.host_header}\r\n".encode("latin-1")
        if len(self._heads) > 1024:
            self._heads.clear()
        self._heads[(method, url)] = (origin, prefix)
        return origin, prefix

    async def request(self, method: str, url: str, body: bytes, header_block: bytes) -> HttpResponse:
        """Send one request; ``header_block`` is ready ``Name: value\\r\\n`` lines, already checked by
        the caller (no Host, Content-Length or hop-by-hop headers, no CR/LF inside a value)."""
        origin, prefix = self._prepare(method, url)
        head = b"".join((prefix, header_block, b"Content-Length: ", str(len(body)).encode(), b"\r\n\r\n"))
        retry_allowed = method in IDEMPOTENT_METHODS
        async with origin.sem:
            for attempt in (0, 1):
                conn, reused = await self._acquire(origin)
                try:
                    response = await conn.request(head, body, limit=self._limit, head_only=method == "HEAD")
                except asyncio.CancelledError:
                    conn.close()
                    raise
                except (Http11Error, OSError, ValueError) as exc:
                    conn.close()
                    # A reused keep-alive connection the server had already closed: an idempotent
                    # request goes once more on a fresh one (see the module docstring).
                    if retry_allowed and reused and attempt == 0 and not conn.received_any:
                        continue
                    if isinstance(exc, Http11Error):
                        raise
                    raise Http11Error(str(exc) or type(exc).__name__) from None
                except BaseException:
                    conn.close()  # a refused (too large) answer leaves the connection mid-message
                    raise
                if conn.keep_alive and not conn.lost:
                    conn.last_used = time.monotonic()
                    origin.idle.append(conn)
                else:
                    conn.close()
                return response
        raise Http11Error("unreachable")  # pragma: no cover

    async def _acquire(self, origin: _Origin) -> tuple[_Conn, bool]:
        idle = origin.idle
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.lost or now - conn.last_used > _IDLE_TTL_S:
                conn.close()
                continue
            return conn, True
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(_Conn, origin.host, origin.port, ssl=origin.ssl)
        except OSError as exc:
            raise Http11ConnectError(f"connect failed: {exc.strerror or type(exc).__name__}") from None
        return conn, False

    def close(self) -> None:
        for origin in self._origins.values():
            for conn in origin.idle:
                conn.close()
            origin.idle.clear()
