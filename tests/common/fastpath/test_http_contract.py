"""The services' HTTP client against a real local server, on both paths: size and decompression caps,
retries only for idempotent requests, timeouts and refused connections as httpx errors."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from setrum_common.fastpath.http import HttpClient, ResponseRefused, ResponseTooLarge

LIMIT = 64 * 1024

Handler = Callable[[bytes, bytes, asyncio.StreamWriter, int], Awaitable[bool]]
"""(request head, body, writer, requests before this one on its connection) -> keep the connection open?"""


class Server:
    """A raw HTTP/1.1 server on a free port: each request goes to ``handler``; counts connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.url = ""
        self._server: asyncio.AbstractServer | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head)
                if not await self.handler(head, body, writer, served):
                    break
                served += 1
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()


def answer(body: bytes, *, headers: bytes = b"", status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\nContent-Type: application/json\r\n%s\r\n%s" % (
        status,
        len(body),
        headers,
        body,
    )


@pytest.fixture
async def client(fast: bool) -> AsyncIterator[HttpClient]:
    http = HttpClient(fast=fast, timeout_s=2.0, max_response_bytes=LIMIT, headers={"accept": "application/json"})
    yield http
    await http.aclose()


async def test_round_trip_keep_alive_and_header_hygiene(client: HttpClient) -> None:
    async def echo(head: bytes, body: bytes, writer: asyncio.StreamWriter, served: int) -> bool:
        writer.write(answer(b'{"got":"%s"}' % body))
        return True

    async with Server(echo) as server:
        for n in range(3):
            got = await client.post(
                server.url + "/x?y=1",
                b"%d" % n,
                {"authorization": "Bearer t", "evil\r\nX-Injected": "1", "x-split": "a\r\nb", "host": "forged"},
            )
            assert got.status_code == 200 and got.json() == {"got": str(n)}
            assert got.content_type == "application/json"
        assert (await client.get(server.url + "/x")).json() == {"got": ""}
        assert server.connections == 1
        head = server.requests[0].lower()
        assert head.startswith(b"post /x?y=1 http/1.1\r\n")
        assert b"authorization: bearer t" in head and b"accept: application/json" in head
        assert b"x-injected" not in head and b"x-split" not in head and b"forged" not in head


async def test_an_oversized_body_is_refused_however_it_is_framed(client: HttpClient) -> None:
    big = b"x" * (LIMIT + 1)

    async def oversized(head: bytes, body: bytes, writer: asyncio.StreamWriter, served: int) -> bool:
        kind = body.decode()
        if kind == "length":
            writer.write(answer(big))
        elif kind == "declared":  # says it is huge, then sends nothing
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n")
        elif kind == "chunked":
            chunk = b"y" * 8192
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // len(chunk) + 2)))
            writer.write(b"0\r\n\r\n")
        elif kind == "close":
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big)
            return False
        else:
            writer.write(answer(b'{"ok":true}'))
        return True

    async with Server(oversized) as server:
        for kind in ("length", "declared", "chunked", "close"):
            with pytest.raises(ResponseTooLarge, match=f"larger than {LIMIT} bytes"):
                await client.post(server.url, kind.encode())
        # The client is still good, on a fresh connection (a refused answer's connection is dropped).
        assert (await client.post(server.url, b"fine")).json() == {"ok": True}
        assert (await client.post(server.url, b"x" * LIMIT * 2)).json() == {"ok": True}  # requests are not capped


async def test_compressed_bodies_are_decoded_and_bombs_refused(client: HttpClient) -> None:
    bomb = b"\0" * (LIMIT * 200)  # 12.8 MB of zeros: a few KB compressed
    bodies = {
        b"gzip": (gzip.compress(b'{"ok":"gzip"}'), b"gzip"),
        b"deflate": (zlib.compress(b'{"ok":"deflate"}'), b"deflate"),
        b"gzip-bomb": (gzip.compress(bomb), b"gzip"),
        b"deflate-bomb": (zlib.compress(bomb), b"deflate"),
        b"brotli": (b"\x1b\x00", b"br"),
        b"corrupt": (b"not gzip at all", b"gzip"),
    }

    async def compressed(head: bytes, body: bytes, writer: asyncio.StreamWriter, served: int) -> bool:
        payload, coding = bodies[body]
        assert len(payload) < LIMIT
        writer.write(answer(payload, headers=b"Content-Encoding: %s\r\n" % coding))
        return True

    async with Server(compressed) as server:
        assert (await client.post(server.url, b"gzip")).json() == {"ok": "gzip"}
        assert (await client.post(server.url, b"deflate")).json() == {"ok": "deflate"}
        for kind in (b"gzip-bomb", b"deflate-bomb"):
            with pytest.raises(ResponseTooLarge, match="decompressed"):
                await client.post(server.url, kind)
        with pytest.raises(ResponseRefused, match="unsupported content-encoding 'br'"):
            await client.post(server.url, b"brotli")
        with pytest.raises(ResponseRefused, match="not valid gzip"):
            await client.post(server.url, b"corrupt")


async def test_only_idempotent_requests_are_retried_on_a_reused_connection_found_dead(client: HttpClient) -> None:
    """The server answers the first request on each connection, then reads the next one and hangs
    up without a word: what a keep-alive connection closing under a request looks like."""

    async def first_only(head: bytes, body: bytes, writer: asyncio.StreamWriter, served: int) -> bool:
        if served:
            return False
        writer.write(answer(b'{"n":%d}' % server.connections))
        return True

    async with Server(first_only) as server:
        assert (await client.get(server.url)).json() == {"n": 1}
        # GET: the dead reused connection is detected and the GET sent again on a new one.
        assert (await client.get(server.url)).json() == {"n": 2}
        assert len(server.requests) == 3 and server.connections == 2
        # POST: sent once, never again; the caller hears of the failure.
        with pytest.raises(httpx.TransportError):
            await client.post(server.url, b'{"query":"mutation { pay }"}')
        posts = [h for h in server.requests if h.startswith(b"POST")]
        assert len(posts) == 1


async def test_timeouts_and_refused_connections_are_httpx_errors(client: HttpClient) -> None:
    async def silent(head: bytes, body: bytes, writer: asyncio.StreamWriter, served: int) -> bool:
        await asyncio.sleep(5)
        return False

    async with Server(silent) as server:
        with pytest.raises(httpx.TimeoutException):
            await client.post(server.url, b"{}", timeout_s=0.2)
    refused = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{refused.sockets[0].getsockname()[1]}"
    refused.close()
    await refused.wait_closed()
    with pytest.raises(httpx.ConnectError):
        await client.post(url, b"{}")
