"""uvicorn's HTTP/1.1 protocol with a response's head and body leaving in one send.

uvicorn writes a response's status line and headers as soon as the application sends
``http.response.start``, and the body on ``http.response.body``: two ``send`` calls on a
``TCP_NODELAY`` socket, so two segments. On the loopback between our services that is a second
system call here, and on the caller a second wake-up and read, and (for our HTTP client, which
waits for the head and then for the body) a second turn of its request's task: per purchase four
answers pay it twice (router, transactions, master, biller).

:class:`CoalescingHttpToolsProtocol` hands uvicorn a transport whose ``write`` of a response head
is held until the next write (the body, normally in the same turn of the event loop), which then
goes out together with it; a head with nothing after it in that turn (a streamed answer's first
chunk still being made) is sent at the end of the turn. ``close`` sends what is held first, so
nothing is ever lost or reordered; ``abort`` drops it, as a transport's abort drops its buffer.

:class:`AdmittingHttpToolsProtocol` adds a door in front of the app: in a storm most requests are
refused by the overload limit, and a refusal made by the app (an ASGI task, the middleware stack, a
``receive``, the held wait and two ``send`` calls) cost the router about 75 µs of CPU, 50 µs at this door. While
the limit is pressed, the protocol holds a limited request until its body is in (a few hundred
bytes, normally in the same read as its head), asks the app's :class:`~setrum_common.overload.Admission`
whether it is refused at once, and if so writes the 503 itself; otherwise the request goes to the app
as usual, whose middleware decides again. In a storm nearly every read is one whole request (a few
hundred bytes), and then the door answers it before httptools sees it: a strict pattern reads the
request line and headers, and what it cannot read plainly (pipelined or split requests, chunked
bodies, ``Expect``, upgrades, encoded paths, anything malformed) goes the parser's way as before. That
skips the parser's callbacks and uvicorn's per-request state, and brought a refusal from about 64 µs of
CPU to about 35, against about 18 for a bare asyncio server that answers every request with the same
bytes. Refusals held for the refusal delay share a timer
(:class:`~setrum_common.overload.HeldRefusals`): held as the router holds them, a refusal costs about 49 µs,
65 with a timer each (``python -m bench --only refusalcost``).
Both build on uvicorn's httptools protocol and its request cycle, which are uvicorn's internals: the
dependency is pinned below uvicorn's next release, and :func:`http_protocol` falls back to the plain
protocol where those internals are not as expected.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, NamedTuple

from .overload import PRIORITY_SCAN_BYTES, Admission, HeldRefusals, admission_of, refusal_headers
from .shutdown import draining

try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

    _HTTPTOOLS = True
except ImportError:  # no httptools: uvicorn's h11 protocol serves instead (see http_protocol)
    HttpToolsProtocol = asyncio.Protocol  # type: ignore[misc,assignment]
    _HTTPTOOLS = False

__all__ = [
    "AdmittingHttpToolsProtocol",
    "CoalescingHttpToolsProtocol",
    "CoalescingTransport",
    "WholeRequest",
    "http_protocol",
    "read_whole_request",
    "refusal_response",
]

# What the door relies on in uvicorn's request cycle (pinned below uvicorn's next release, checked here too).
_CYCLE_FIELDS = (
    "body",
    "more_body",
    "keep_alive",
    "message_event",
    "on_response",
    "response_started",
    "response_complete",
    "disconnected",
    "waiting_for_100_continue",
)
# And what it relies on in the protocol itself, for a request it answers before the parser sees it.
_PROTOCOL_FIELDS = ("timeout_keep_alive_handler", "on_message_begin", "shutdown")

# One whole request as the door reads it: a GET or POST in origin form over HTTP/1.1 whose path has no
# percent-encoding (path and query captured apart), header names that are tokens and values of visible
# ASCII, space and tab. Anything else is the parser's to read. Requests with Transfer-Encoding, Expect or
# Upgrade are the parser's (and the app's) whatever the limit says.
_REQUEST_HEAD = re.compile(
    rb"(GET|POST) (/[!-$&->@-~]*)(?:\?([!-~]*))? HTTP/1\.1\r\n((?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t -~]*\r\n)*)\r\n"
)
# The headers the door reads or leaves to the parser, found in one pass over a header block that
# _REQUEST_HEAD has checked (so a value holds no CR).
_DOOR_HEADERS = re.compile(rb"\r\n(content-length|connection|origin|transfer-encoding|expect|upgrade):([^\r]*)", re.I)
# What may wait in memory behind a held refusal before the connection stops being read.
_BEHIND_REFUSAL_BYTES = 64 * 1024


class WholeRequest(NamedTuple):
    """What the door needs of a request read whole: its path, its operation text (a POST body or a GET
    query string), its body's length, whether the connection stays open, whether it has an ``Origin``."""

    path: str
    text: bytes
    length: int
    keep_alive: bool
    cross_origin: bool


def read_whole_request(data: bytes) -> WholeRequest | None:
    """``data`` as exactly one whole request the door may answer, or None: not plainly one (see
    :data:`_REQUEST_HEAD`), more or less than one, chunked, expecting ``100-continue``, an upgrade, an
    encoded path, or a body too long to name a priority operation. Every refusal in a storm reads its
    request here, and a microsecond here is two in place (the kernel's work between two requests leaves
    the caches cold): so two passes of the regular expressions over the bytes, and no copy of the head."""
    head = _REQUEST_HEAD.match(data)
    if head is None:
        return None
    length = -1
    keep_alive = True
    cross_origin = False
    # The header block starts right after the request line's CRLF: each header the door reads follows one.
    for name, value in _DOOR_HEADERS.findall(data, head.start(4) - 2, head.end(4)):
        name = name.lower()
        if name == b"content-length":
            value = value.strip()
            if length >= 0 or not value.isdigit() or len(value) > 7:
                return None  # two lengths, or one that is not a plain number
            length = int(value)
        elif name == b"connection":
            keep_alive = keep_alive and b"close" not in value.lower()
        elif name == b"origin":
            cross_origin = True
        else:  # Transfer-Encoding, Expect, Upgrade: the parser's
            return None
    length = max(length, 0)
    body_at = head.end()
    if length > PRIORITY_SCAN_BYTES or body_at + length != len(data):
        return None
    method, path, query = head.group(1, 2, 3)
    text = data[body_at:] if method == b"POST" else query or b""
    return WholeRequest(path.decode("ascii"), text, length, keep_alive, cross_origin)


_refusal_cache: tuple[object, bytes, bool, bytes] | None = None


def refusal_response(default_headers: list[tuple[bytes, bytes]], body: bytes, keep_alive: bool) -> bytes:
    """The whole 503 answer: the server's default headers (its ``date`` changes each second, as a new
    list), the refusal's own, ``connection: close`` when the connection ends. The last one is kept."""
    global _refusal_cache
    cached = _refusal_cache
    if cached is not None and cached[0] is default_headers and cached[1] is body and cached[2] is keep_alive:
        return cached[3]
    head = [STATUS_LINE[503]]
    for name, value in [*default_headers, *refusal_headers(body)]:
        head += [name, b": ", value, b"\r\n"]
    if not keep_alive:
        head.append(b"connection: close\r\n")
    response = b"".join([*head, b"\r\n", body])
    _refusal_cache = (default_headers, body, keep_alive, response)
    return response


class CoalescingTransport:
    """A transport that holds a response head until the body joins it (at the latest, until the loop turns)."""

    __slots__ = ("_transport", "_loop", "_held", "_flush_scheduled")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush_scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is not None:  # the body (or anything else) after a held head: both in one send
            self.write_whole(bytes(data))
            return
        if data[:5] == b"HTTP/" and bytes(data[-4:]) == b"\r\n\r\n":  # a response head: wait for its body
            self._held = bytes(data)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self._loop.call_soon(self._flush)
            return
        self._transport.write(data)

    def write_whole(self, answer: bytes) -> None:
        """``answer`` after anything held, in one send: a whole answer (a door refusal skips the head test),
        or what follows a held head."""
        held = self._held
        if held is not None:
            self._held = None
            answer = held + answer
        self._transport.write(answer)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def _flush(self) -> None:
        self._flush_scheduled = False
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def is_closing(self) -> bool:  # asked before every refusal: no __getattr__ detour
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + (len(self._held) if self._held is not None else 0)

    def __getattr__(self, name: str) -> Any:  # everything else is the real transport's
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`CoalescingTransport` (``uvicorn.Config(http=...)``)."""

    coalescing: CoalescingTransport  # what uvicorn knows as self.transport, typed as what it is

    # uvicorn types the transport as asyncio.Transport; a CoalescingTransport wraps one and stands in for it.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.coalescing = CoalescingTransport(transport, self.loop)
        super().connection_made(self.coalescing)  # type: ignore[arg-type]


class AdmittingHttpToolsProtocol(CoalescingHttpToolsProtocol):
    """:class:`CoalescingHttpToolsProtocol` with the overload door (see the module's docstring)."""

    _admission: Admission | None = None
    # A request whose ASGI task waits for its body: the door decides when the body is in.
    _held: tuple[RequestResponseCycle, Any] | None = None
    # The parser has begun a request it has not finished: the next read is not a request's start.
    _mid_message = False
    # A whole request's refusal held for the refusal delay; what arrives meanwhile waits behind it.
    _refusal_pending = False
    _behind_refusal = b""
    _refused_at = -1e18  # loop time of the last whole request refused
    _held_refusals: HeldRefusals  # this loop's, set when the connection is made

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._admission = admission_of(self.app)
        self._held_refusals = HeldRefusals.of(self.loop)

    def data_received(self, data: bytes) -> None:
        if self._refusal_pending:
            self._behind_refusal += data  # answered in order, once the refusal is out
            if len(self._behind_refusal) > _BEHIND_REFUSAL_BYTES:
                self.flow.pause_reading()  # a client that keeps sending waits in the kernel, not in memory
            return
        admission = self._admission
        if (
            admission is None
            or not admission.limiter.pressed
            or self._mid_message
            or self.pipeline
            or (self.cycle is not None and not self.cycle.response_complete)
            or self.flow.write_paused
            or not self._refuse_whole(admission, data)
        ):
            super().data_received(data)

    def _refuse_whole(self, admission: Admission, data: bytes) -> bool:
        """Answer ``data``, one whole request between others, with the refusal if the limit refuses it at
        once; False: the parser reads it as usual."""
        request = read_whole_request(data)
        if (
            request is None
            or not admission.limits_path(request.path)
            or admission.passes_through(request.length)
            or (request.cross_origin and admission.cross_origin_through_app)
            or not admission.refuse_at_once(request.text)
        ):
            return False
        if admission.refusal_delay_s > 0:
            self._refusal_pending = True
            self._held_refusals.hold(admission.refusal_delay_s, self._send_whole_refusal, admission, request.keep_alive)
        else:
            self._send_whole_refusal(admission, request.keep_alive)
        return True

    def _write_refusal(self, admission: Admission, keep_alive: bool) -> bool:
        """Write the whole 503 (after anything held), and close after it unless the connection stays
        open: it does if the request asked so and the server is not draining. True: it stays open."""
        keep_alive = keep_alive and not draining()
        transport = self.coalescing
        transport.write_whole(refusal_response(self.server_state.default_headers, admission.refusal, keep_alive))
        if not keep_alive:
            transport.close()
        return keep_alive

    def _send_whole_refusal(self, admission: Admission, keep_alive: bool) -> None:
        """The refusal of a request the door read whole (the parser never saw it)."""
        self._refusal_pending = False
        if self.coalescing.is_closing():
            return
        self.server_state.total_requests += 1
        if not self._write_refusal(admission, keep_alive):
            return
        if self.flow.read_paused:  # paused while the refusal was held (see data_received)
            self.flow.resume_reading()
        # The keep-alive timer is not moved per refusal (a timer's cancel and re-arm cost about a quarter of
        # a refusal): it is armed when there is none, and when it fires it looks at the last refusal.
        self._refused_at = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )
        behind, self._behind_refusal = self._behind_refusal, b""
        if behind:
            self.data_received(behind)

    def timeout_keep_alive_handler(self) -> None:
        idle_s = self.loop.time() - self._refused_at
        if self._refusal_pending or idle_s < self.timeout_keep_alive:  # not idle that long: wait the rest
            self.timeout_keep_alive_task = self.loop.call_later(
                max(0.1, self.timeout_keep_alive - idle_s), self.timeout_keep_alive_handler
            )
            return
        super().timeout_keep_alive_handler()

    def shutdown(self) -> None:
        if not self._refusal_pending:  # else the refusal, on its way, closes the connection (draining)
            super().shutdown()

    def on_message_begin(self) -> None:
        self._mid_message = True
        super().on_message_begin()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        admission = self._admission
        if admission is None or not admission.limiter.pressed or not self._door_decides(admission, cycle):
            super()._start_asgi_task(cycle, app)
        elif cycle.more_body:
            self._held = (cycle, app)
        else:  # a pipelined request, read whole while the one before it was answered
            self._admit(admission, cycle, app)

    def _door_decides(self, admission: Admission, cycle: RequestResponseCycle) -> bool:
        """A limited GET or POST, small, with no ``Expect: 100-continue`` (its body comes only once the app
        reads), and not a cross-origin request that the app's CORS layer must answer."""
        scope: Any = cycle.scope  # uvicorn's HTTPScope is the ASGI scope Admission reads
        if scope["method"] not in ("GET", "POST") or cycle.waiting_for_100_continue:
            return False
        if not admission.limits(scope) or admission.declared_too_long(scope):
            return False
        cross_origin = admission.cross_origin_through_app and any(name == b"origin" for name, _ in scope["headers"])
        return not cross_origin

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        held = self._held
        if held is not None and len(held[0].body) > PRIORITY_SCAN_BYTES:
            self._held = None  # too long to name a priority operation: the app reads it as it comes
            super()._start_asgi_task(*held)

    def on_message_complete(self) -> None:
        self._mid_message = False
        super().on_message_complete()
        held, self._held = self._held, None
        if held is not None and self._admission is not None:
            self._admit(self._admission, *held)

    def connection_lost(self, exc: Exception | None) -> None:
        self._held = None
        self._behind_refusal = b""
        super().connection_lost(exc)

    def _admit(self, admission: Admission, cycle: RequestResponseCycle, app: Any) -> None:
        scope = cycle.scope
        text = bytes(cycle.body) if scope["method"] == "POST" else scope.get("query_string", b"")
        if not admission.refuse_at_once(text):
            super()._start_asgi_task(cycle, app)
            return
        cycle.response_started = True  # the door answers it; no app will
        if admission.refusal_delay_s > 0:
            self._held_refusals.hold(admission.refusal_delay_s, self._refuse, admission, cycle)
        else:
            self._refuse(admission, cycle)

    def _refuse(self, admission: Admission, cycle: RequestResponseCycle) -> None:
        """The refusal of a request the parser read (uvicorn's request cycle, which no app will answer)."""
        if cycle.disconnected or self.coalescing.is_closing():
            return
        cycle.keep_alive = self._write_refusal(admission, cycle.keep_alive)
        cycle.response_complete = True
        cycle.message_event.set()
        cycle.on_response()


def _door_fits_uvicorn() -> bool:
    """Whether uvicorn's internals are what :class:`AdmittingHttpToolsProtocol` was written against."""
    if not _HTTPTOOLS or not hasattr(HttpToolsProtocol, "_start_asgi_task"):
        return False
    init = RequestResponseCycle.__init__.__code__
    protocol = HttpToolsProtocol.__init__.__code__
    return (
        all(name in init.co_names for name in _CYCLE_FIELDS)
        and all(hasattr(HttpToolsProtocol, name) for name in _PROTOCOL_FIELDS)
        and all(
            name in protocol.co_names
            for name in ("pipeline", "cycle", "flow", "server_state", "timeout_keep_alive_task", "timeout_keep_alive")
        )
    )


def http_protocol() -> type[asyncio.Protocol] | str:
    """What ``uvicorn.Config(http=...)`` gets: the protocol with the overload door, without it where
    uvicorn's internals differ, or h11 where httptools is not installed."""
    if not _HTTPTOOLS:
        return "h11"
    return AdmittingHttpToolsProtocol if _door_fits_uvicorn() else CoalescingHttpToolsProtocol
