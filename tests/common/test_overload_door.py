"""The overload door in the HTTP server (setrum_common/http_server.py): while the limit is pressed, a
request the limit would refuse at once is answered 503 by the protocol, before the app has it.

A real uvicorn server with a limit of one slot and no queue: one held request takes the slot, and
what follows is refused. On the door's protocol the app never sees the refused requests; on the plain
protocol (the fallback when uvicorn's internals differ) its middleware refuses them; both answer the
same bytes that matter (status, ``Retry-After``, the ``OVERLOADED`` error).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from setrum_common.http_server import (
    AdmittingHttpToolsProtocol,
    CoalescingHttpToolsProtocol,
    WholeRequest,
    read_whole_request,
)
from setrum_common.overload import (
    PRIORITY_SCAN_BYTES,
    REFUSAL_TICK_S,
    AdaptiveLimiter,
    Admission,
    HeldRefusals,
    LimiterOptions,
    OverloadMiddleware,
)
from tests.fixtures.uvicorn_thread import serve_in_thread

PURCHASE = b'{"query": "mutation { purchaseToken(meterNumber: \\"1\\") { id } }"}'
READ = b'{"query": "{ purchases { id } }"}'
HELD = b'{"query": "{ held }"}'


class _CountingApp:
    """The app as uvicorn sees it, counting the /graphql requests that reach it (``.app`` is what the
    door looks through for ``state.admission``)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql":
            self.calls += 1
        await self.app(scope, receive, send)


def _app(admission: Admission, release: threading.Event) -> _CountingApp:
    async def graphql(request: Request) -> JSONResponse:
        text = await request.body() if request.method == "POST" else request.url.query.encode()
        while (b"held" in text or b"purchases" in text) and not release.is_set():
            await asyncio.sleep(0.005)  # holds its slot until the test releases it
        return JSONResponse({"data": {"ok": True}})

    app = Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"])],
        middleware=[Middleware(OverloadMiddleware, admission=admission)],
    )
    app.state.admission = admission
    return _CountingApp(app)


def _admission(limit: int = 1, **options: Any) -> tuple[Admission, list[int]]:
    refused: list[int] = []
    limiter = AdaptiveLimiter(LimiterOptions(initial_limit=limit, min_limit=limit, max_limit=limit, queue_timeout_s=0))
    return Admission(
        limiter=limiter, paths=frozenset({"/graphql"}), on_refused=lambda: refused.append(1), **options
    ), refused


@contextmanager
def _served(app: _CountingApp, protocol: type) -> Iterator[str]:
    with serve_in_thread(app, http=protocol) as url:
        yield url


def _post(body: bytes, *extra: bytes) -> bytes:
    head = b"POST /graphql HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n"
    return head + b"".join(extra) + b"content-length: %d\r\n\r\n" % len(body) + body


class _Responses:
    """HTTP/1.1 responses (each with a content-length) read off one socket, in order."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self, until: int) -> None:
        while len(self.buffer) < until:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the connection"
            self.buffer += chunk

    def next(self) -> tuple[int, dict[bytes, bytes], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill(len(self.buffer) + 1)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.split(b"\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(b":") for line in lines)}
        length = int(headers[b"content-length"])
        self._fill(length)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body


async def _hold_the_slot(url: str) -> asyncio.Task[httpx.Response]:
    client = httpx.AsyncClient(base_url=url)
    task = asyncio.create_task(client.post("/graphql", content=HELD))
    task.add_done_callback(lambda _: asyncio.ensure_future(client.aclose()))
    await asyncio.sleep(0.2)  # its request is in the app, holding the one slot
    return task


@pytest.mark.parametrize("protocol", [AdmittingHttpToolsProtocol, CoalescingHttpToolsProtocol], ids=["door", "plain"])
async def test_a_refusal_is_the_same_answer_and_the_connection_lives_on(protocol: type) -> None:
    admission, refused = _admission()
    release = threading.Event()
    app = _app(admission, release)
    with _served(app, protocol) as url:
        holder = await _hold_the_slot(url)
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as sock:
            responses = _Responses(sock)
            sock.sendall(_post(PURCHASE))
            status, headers, body = await asyncio.to_thread(responses.next)
            # two more at once on the same connection (pipelined): each refused, in order
            sock.sendall(_post(PURCHASE) + _post(READ))
            answers = [await asyncio.to_thread(responses.next) for _ in range(2)]
            assert responses.buffer == b""
            release.set()
            assert (await holder).status_code == 200
            sock.sendall(_post(PURCHASE))  # the slot is free: the same connection is served
            admitted = await asyncio.to_thread(responses.next)
    for answer_status, answer_headers, answer_body in [(status, headers, body), *answers]:
        assert answer_status == 503 and answer_headers[b"retry-after"] == b"1"
        assert answer_headers[b"content-type"] == b"application/json"
        assert orjson.loads(answer_body)["errors"][0]["extensions"]["code"] == "OVERLOADED"
    assert admitted[0] == 200 and orjson.loads(admitted[2]) == {"data": {"ok": True}}
    assert len(refused) == 3 and admission.limiter.refused == 3
    # the held request and the admitted one; on the plain protocol the three refused ones too
    assert app.calls == (2 if protocol is AdmittingHttpToolsProtocol else 5)


async def test_the_door_lets_purchases_in_while_it_refuses_reads() -> None:
    """Of a limit of 4, reads may use 3: with 3 reads in flight the door refuses a 4th read at once,
    and a purchase (a priority operation, by its text) still goes in, in a POST body or a GET query."""
    admission, refused = _admission(limit=4)
    release = threading.Event()
    app = _app(admission, release)
    with _served(app, AdmittingHttpToolsProtocol) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            reads = [asyncio.create_task(client.post("/graphql", content=HELD)) for _ in range(3)]
            await asyncio.sleep(0.2)
            assert admission.limiter.pressed
            read = await client.post("/graphql", content=READ)
            by_get = await client.get("/graphql", params={"query": "{ purchases { id } }"})
            purchase = await client.post("/graphql", content=PURCHASE)
            purchase_by_get = await client.get("/graphql", params={"query": "mutation { purchaseToken { id } }"})
            release.set()
            assert [r.status_code for r in await asyncio.gather(*reads)] == [200, 200, 200]
    assert (read.status_code, by_get.status_code) == (503, 503)
    assert (purchase.status_code, purchase_by_get.status_code) == (200, 200)
    assert len(refused) == 2 and app.calls == 3 + 2  # the refused reads never reached the app


async def test_a_door_refusal_is_held_for_the_refusal_delay() -> None:
    admission, _ = _admission(refusal_delay_s=0.05)
    release = threading.Event()
    with _served(_app(admission, release), AdmittingHttpToolsProtocol) as url:
        holder = await _hold_the_slot(url)
        async with httpx.AsyncClient(base_url=url) as client:
            timings = []
            for _ in range(3):
                sent = time.monotonic()
                assert (await client.post("/graphql", content=PURCHASE)).status_code == 503
                timings.append(time.monotonic() - sent)
        release.set()
        await holder
    assert min(timings) >= 0.05, timings


class _CountingTimers:
    """The running loop's clock and ``call_at``, counting the timers armed through it."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.armed = 0

    def time(self) -> float:
        return self.loop.time()

    def call_at(self, when: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        self.armed += 1
        return self.loop.call_at(when, callback, *args)

    def create_future(self) -> asyncio.Future[Any]:
        return self.loop.create_future()


async def test_held_refusals_leave_after_their_delay_a_few_timers_for_many() -> None:
    """In a storm thousands of refusals a second are held for the delay: they share a timer per tick."""
    timers = _CountingTimers()
    held = HeldRefusals(timers)  # type: ignore[arg-type]
    waited: list[float] = []
    done = asyncio.Event()

    def send(held_at: float) -> None:
        waited.append(timers.time() - held_at)
        if len(waited) == 200:
            done.set()

    for _ in range(20):  # 200 refusals over about 20 ms
        for _ in range(10):
            held.hold(0.05, send, timers.time())
        await asyncio.sleep(0.001)
    await asyncio.wait_for(done.wait(), 5)
    assert min(waited) >= 0.05  # never before the delay
    assert max(waited) < 0.05 + REFUSAL_TICK_S + 0.1  # a tick late at most (and the loop's jitter)
    assert timers.armed <= 200 / 10 / 2  # a timer per tick, not per refusal


async def test_a_refusal_held_while_others_are_sent_does_not_start_a_second_timer() -> None:
    """Sending a refusal reads what waited behind it, which may be refused and held in turn: still one timer."""
    timers = _CountingTimers()
    held = HeldRefusals(timers)  # type: ignore[arg-type]
    sent = 0
    done = asyncio.Event()

    def send() -> None:
        nonlocal sent
        sent += 1
        if sent < 6:
            held.hold(0.01, send)  # the request behind it, refused in turn
        else:
            done.set()

    held.hold(0.01, send)
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.sleep(0.05)  # any second timer would still be firing and arming
    assert sent == 6 and timers.armed == 6


async def test_the_apps_refusals_wait_on_the_same_timer_and_a_client_that_left_does_not_stop_the_others() -> None:
    """The middleware's refusals (what the door leaves to the app) are held by ``wait``: one timer for many, and
    a waiter cancelled meanwhile (its client hung up) is skipped, not woken into an error."""
    timers = _CountingTimers()
    held = HeldRefusals(timers)  # type: ignore[arg-type]
    started = timers.time()
    waiters = [asyncio.create_task(held.wait(0.03)) for _ in range(50)]
    await asyncio.sleep(0.01)
    waiters[7].cancel()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    waited = timers.time() - started
    assert isinstance(results[7], asyncio.CancelledError)
    assert all(r is None for i, r in enumerate(results) if i != 7)
    assert 0.03 <= waited < 0.03 + REFUSAL_TICK_S + 0.1
    assert timers.armed == 1


async def test_long_bodies_and_cross_origin_requests_are_left_to_the_app() -> None:
    """A body too long to name a priority operation is not held for the door, and with CORS on a
    request carrying ``Origin`` is refused by the app (whose CORS layer a browser needs): both still
    refused, by the middleware."""
    admission, refused = _admission(cross_origin_through_app=True)
    release = threading.Event()
    app = _app(admission, release)
    long_read = b'{"query": "{ purchases { id } }", "extensions": {"pad": "' + b"x" * PRIORITY_SCAN_BYTES + b'"}}'
    with _served(app, AdmittingHttpToolsProtocol) as url:
        holder = await _hold_the_slot(url)
        async with httpx.AsyncClient(base_url=url) as client:
            long_answer = await client.post("/graphql", content=long_read)
            cross = await client.post("/graphql", content=PURCHASE, headers={"origin": "https://app.example.id"})
            plain = await client.post("/graphql", content=PURCHASE)
        release.set()
        await holder
    assert [r.status_code for r in (long_answer, cross, plain)] == [503, 503, 503]
    assert len(refused) == 3
    assert app.calls == 1 + 2  # the held request, the long one and the cross-origin one; not the plain one


def _door_socket(url: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))


@dataclass
class _Pressed:
    """A door server whose one slot a held request takes: what follows is refused until :meth:`free`."""

    url: str
    refused: list[int]
    app: _CountingApp
    release: threading.Event
    holder: asyncio.Task[httpx.Response]

    async def free(self) -> httpx.Response:
        self.release.set()
        return await self.holder


@asynccontextmanager
async def _pressed(*, keep_alive_s: float = 5.0, **options: Any) -> AsyncIterator[_Pressed]:
    admission, refused = _admission(**options)
    release = threading.Event()
    app = _app(admission, release)
    with serve_in_thread(app, http=AdmittingHttpToolsProtocol, timeout_keep_alive=keep_alive_s) as url:
        pressed = _Pressed(url, refused, app, release, await _hold_the_slot(url))
        try:
            yield pressed
        finally:
            await pressed.free()


async def test_a_request_in_two_reads_or_behind_a_delayed_refusal_is_still_answered_in_order() -> None:
    """The door answers a request read whole before the parser sees it; a request whose body comes in a
    later read is refused too, and one sent while a refusal is held for the refusal delay is answered
    after it, even when it is admitted (the slot freed meanwhile) and its answer is ready first."""
    async with _pressed(refusal_delay_s=0.1) as server:
        with _door_socket(server.url) as sock:
            responses = _Responses(sock)
            split = _post(PURCHASE)
            sock.sendall(split[:40])  # the request line and part of a header
            await asyncio.sleep(0.05)
            sock.sendall(split[40:])
            first = await asyncio.to_thread(responses.next)
            sock.sendall(_post(PURCHASE))  # refused; its answer held for 0.1 s
            await asyncio.sleep(0.01)
            assert (await server.free()).status_code == 200
            sock.sendall(_post(PURCHASE))  # admitted: the slot is free
            answers = [await asyncio.to_thread(responses.next) for _ in range(2)]
    assert [first[0], answers[0][0], answers[1][0]] == [503, 503, 200]
    assert len(server.refused) == 2 and server.app.calls == 2  # the held request and the admitted one


async def test_what_piles_up_behind_a_held_refusal_is_read_later_and_answered_in_order() -> None:
    """More than the 64 KiB the door keeps in memory behind a held refusal (past that the connection is not
    read until the refusal is out): every request is still answered, in order."""
    long_read = b'{"query": "{ purchases { id } }", "extensions": {"pad": "' + b"x" * 30_000 + b'"}}'
    async with _pressed(refusal_delay_s=0.1) as server:
        with _door_socket(server.url) as sock:
            sock.settimeout(10)
            responses = _Responses(sock)
            sock.sendall(_post(PURCHASE))  # refused at the door, held for 0.1 s
            await asyncio.sleep(0.01)
            await asyncio.to_thread(sock.sendall, _post(long_read) * 3)  # about 90 KB behind it
            answers = [await asyncio.to_thread(responses.next) for _ in range(4)]
    assert [status for status, _, _ in answers] == [503] * 4
    assert len(server.refused) == 4


async def test_a_refusal_asked_to_close_closes_and_malformed_requests_get_the_parsers_answer() -> None:
    async with _pressed() as server:
        with _door_socket(server.url) as sock:
            responses = _Responses(sock)
            sock.sendall(_post(PURCHASE, b"connection: close\r\n"))
            status, headers, _ = await asyncio.to_thread(responses.next)
            assert (status, headers[b"connection"]) == (503, b"close")
            assert await asyncio.to_thread(sock.recv, 1) == b""  # closed after the answer
        with _door_socket(server.url) as sock:  # the same in two reads: the parser reads it, the door refuses
            responses = _Responses(sock)
            split = _post(PURCHASE, b"connection: close\r\n")
            sock.sendall(split[:40])
            await asyncio.sleep(0.05)
            sock.sendall(split[40:])
            status, headers, _ = await asyncio.to_thread(responses.next)
            assert (status, headers[b"connection"]) == (503, b"close")
            assert await asyncio.to_thread(sock.recv, 1) == b""
        with _door_socket(server.url) as sock:
            sock.sendall(b"POST /graphql HTTP/1.1\r\nhost: test\r\ncontent-length: 2\r\nbad header\r\n\r\n{}")
            answer = await asyncio.to_thread(sock.recv, 65536)
    assert answer.startswith(b"HTTP/1.1 400 ")  # not the door's: it reads only what is plainly one request
    assert len(server.refused) == 2


async def test_an_idle_connection_still_times_out_after_refusals() -> None:
    """The keep-alive timer is not moved per refusal: when it fires it counts from the last one."""
    async with _pressed(keep_alive_s=0.3) as server:
        with _door_socket(server.url) as sock:
            responses = _Responses(sock)
            for _ in range(5):  # refused for 0.5 s, longer than the keep-alive timeout, and still open
                sock.sendall(_post(PURCHASE))
                assert (await asyncio.to_thread(responses.next))[0] == 503
                await asyncio.sleep(0.1)
            opened = time.monotonic()
            assert await asyncio.to_thread(sock.recv, 1) == b""  # then idle: closed
            idle_s = time.monotonic() - opened
    assert len(server.refused) == 5 and 0.1 < idle_s < 2.0


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (_post(PURCHASE) + _post(PURCHASE), "two requests"),
        (_post(PURCHASE)[:-3], "a body still to come"),
        (_post(PURCHASE, b"transfer-encoding: chunked\r\n"), "chunked"),
        (_post(PURCHASE, b"expect: 100-continue\r\n"), "expects 100-continue"),
        (_post(PURCHASE, b"content-length: 3\r\n"), "two lengths"),
        (_post(PURCHASE).replace(b"HTTP/1.1", b"HTTP/1.0", 1), "HTTP/1.0"),
        (_post(PURCHASE).replace(b"/graphql", b"/graph%71l", 1), "an encoded path"),
        (_post(PURCHASE).replace(b"POST", b"PUT", 1), "a method the door does not answer"),
        (_post(PURCHASE, b"x-name: caf\xc3\xa9\r\n"), "a value beyond ASCII"),
        (_post(b"{" + b" " * PRIORITY_SCAN_BYTES + b"}"), "too long to name an operation"),
    ],
)
def test_the_door_reads_only_what_is_plainly_one_whole_request(raw: bytes, why: str) -> None:
    assert read_whole_request(raw) is None, why


def test_a_whole_request_as_the_door_reads_it() -> None:
    post = read_whole_request(_post(PURCHASE, b"Origin: https://app.example.id\r\n", b"Connection: close\r\n"))
    assert post == WholeRequest("/graphql", PURCHASE, len(PURCHASE), keep_alive=False, cross_origin=True)
    get = read_whole_request(b"GET /graphql?query=%7B+purchases+%7D HTTP/1.1\r\nhost: test\r\n\r\n")
    assert get == WholeRequest("/graphql", b"query=%7B+purchases+%7D", 0, keep_alive=True, cross_origin=False)
