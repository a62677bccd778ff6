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
"""

from __future__ import annotations

import asyncio
from typing import Any

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    _HTTPTOOLS = True
except ImportError:  # no httptools: uvicorn's h11 protocol serves instead (see http_protocol)
    HttpToolsProtocol = asyncio.Protocol  # type: ignore[misc,assignment]
    _HTTPTOOLS = False

__all__ = ["CoalescingHttpToolsProtocol", "CoalescingTransport", "http_protocol"]


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


def http_protocol() -> type[asyncio.Protocol] | str:
    """What ``uvicorn.Config(http=...)`` gets: this protocol, or h11 where httptools is not installed."""
    return CoalescingHttpToolsProtocol if _HTTPTOOLS else "h11"
