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
``receive``, a sleep and two ``send`` calls) cost the router about 75 µs of CPU, 50 µs at this door. While
the limit is pressed, the protocol holds a limited request until its body is in (a few hundred
bytes, normally in the same read as its head), asks the app's :class:`~setrum_common.overload.Admission`
whether it is refused at once, and if so writes the 503 itself; otherwise the request goes to the app
as usual, whose middleware decides again. Both build on uvicorn's httptools protocol and its request
cycle, which are uvicorn's internals: the dependency is pinned below uvicorn's next release, and
:func:`http_protocol` falls back to the plain protocol where those internals are not as expected.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .overload import PRIORITY_SCAN_BYTES, Admission, admission_of, refusal_headers
from .shutdown import draining

try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

    _HTTPTOOLS = True
except ImportError:  # no httptools: uvicorn's h11 protocol serves instead (see http_protocol)
    HttpToolsProtocol = asyncio.Protocol  # type: ignore[misc,assignment]
    _HTTPTOOLS = False

__all__ = ["AdmittingHttpToolsProtocol", "CoalescingHttpToolsProtocol", "CoalescingTransport", "http_protocol"]

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


class CoalescingTransport:
    """A transport that holds a response head until the body joins it (at the latest, until the loop turns)."""

    __slots__ = ("_transport", "_loop", "_held", "_flush_scheduled")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush_scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:  # the body (or anything else) after a held head: both in one send
            self._held = None
            self._transport.write(held + bytes(data))
            return
        if data[:5] == b"HTTP/" and bytes(data[-4:]) == b"\r\n\r\n":  # a response head: wait for its body
            self._held = bytes(data)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self._loop.call_soon(self._flush)
            return
        self._transport.write(data)

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

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + (len(self._held) if self._held is not None else 0)

    def __getattr__(self, name: str) -> Any:  # everything else is the real transport's
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`CoalescingTransport` (``uvicorn.Config(http=...)``)."""

    # uvicorn types the transport as asyncio.Transport; a CoalescingTransport wraps one and stands in for it.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]


class AdmittingHttpToolsProtocol(CoalescingHttpToolsProtocol):
    """:class:`CoalescingHttpToolsProtocol` with the overload door (see the module's docstring)."""

    _admission: Admission | None = None
    # A request whose ASGI task waits for its body: the door decides when the body is in.
    _held: tuple[RequestResponseCycle, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._admission = admission_of(self.app)

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
        super().on_message_complete()
        held, self._held = self._held, None
        if held is not None and self._admission is not None:
            self._admit(self._admission, *held)

    def connection_lost(self, exc: Exception | None) -> None:
        self._held = None
        super().connection_lost(exc)

    def _admit(self, admission: Admission, cycle: RequestResponseCycle, app: Any) -> None:
        scope = cycle.scope
        text = bytes(cycle.body) if scope["method"] == "POST" else scope.get("query_string", b"")
        if not admission.refuse_at_once(text):
            super()._start_asgi_task(cycle, app)
            return
        cycle.response_started = True  # the door answers it; no app will
        if admission.refusal_delay_s > 0:
            self.loop.call_later(admission.refusal_delay_s, self._refuse, admission, cycle)
        else:
            self._refuse(admission, cycle)

    def _refuse(self, admission: Admission, cycle: RequestResponseCycle) -> None:
        if cycle.disconnected or self.transport.is_closing():
            return
        if draining():
            cycle.keep_alive = False
        head = [STATUS_LINE[503]]
        for name, value in [*self.server_state.default_headers, *refusal_headers(admission.refusal)]:
            head += [name, b": ", value, b"\r\n"]
        if not cycle.keep_alive:
            head.append(b"connection: close\r\n")
        head += [b"\r\n", admission.refusal]
        self.transport.write(b"".join(head))
        cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            self.transport.close()
        cycle.on_response()


def _door_fits_uvicorn() -> bool:
    """Whether uvicorn's internals are what :class:`AdmittingHttpToolsProtocol` was written against."""
    if not _HTTPTOOLS or not hasattr(HttpToolsProtocol, "_start_asgi_task"):
        return False
    init = RequestResponseCycle.__init__.__code__
    return all(name in init.co_names for name in _CYCLE_FIELDS)


def http_protocol() -> type[asyncio.Protocol] | str:
    """What ``uvicorn.Config(http=...)`` gets: the protocol with the overload door, without it where
    uvicorn's internals differ, or h11 where httptools is not installed."""
    if not _HTTPTOOLS:
        return "h11"
    return AdmittingHttpToolsProtocol if _door_fits_uvicorn() else CoalescingHttpToolsProtocol
