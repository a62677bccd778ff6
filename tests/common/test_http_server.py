"""A response's head and body leave in one send (setrum_common/http_server.py), and nothing is lost or reordered.

The transport rules on a recording transport; then a real uvicorn server on the protocol, counting the
sends on its sockets: a plain answer is one send, a streamed one still arrives whole, ``Connection:
close`` answers are sent before the close.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from setrum_common.http_server import CoalescingHttpToolsProtocol, CoalescingTransport, http_protocol


class _Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return "extra-" + name


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


async def test_a_head_and_its_body_are_one_write() -> None:
    raw = _Recording()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(HEAD)
    assert raw.writes == [] and transport.get_write_buffer_size() == len(HEAD)
    transport.write(b"ok")
    assert raw.writes == [HEAD + b"ok"]
    await asyncio.sleep(0)  # the scheduled flush finds nothing left
    assert raw.writes == [HEAD + b"ok"]
    assert transport.get_extra_info("peername") == "extra-peername"


async def test_a_lone_head_leaves_when_the_loop_turns_and_close_sends_it_first() -> None:
    raw = _Recording()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(HEAD)
    await asyncio.sleep(0)
    assert raw.writes == [HEAD]
    transport.write(HEAD)
    transport.close()
    assert raw.writes == [HEAD, HEAD] and raw.closed
    other = _Recording()
    dropped = CoalescingTransport(other, asyncio.get_running_loop())  # type: ignore[arg-type]
    dropped.write(HEAD)
    dropped.abort()
    await asyncio.sleep(0)
    assert other.writes == [] and other.aborted


async def test_other_bytes_are_written_at_once() -> None:
    raw = _Recording()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"5\r\nhello\r\n")
    transport.writelines([b"a", b"b"])
    assert raw.writes == [b"5\r\nhello\r\n", b"a", b"b"]


# ------------------------------------------------------------------------------------------- a real server


async def _plain(_: Request) -> Response:
    return JSONResponse({"ok": True})


async def _stream(_: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"one,"
        await asyncio.sleep(0.01)
        yield b"two"

    return StreamingResponse(chunks(), media_type="text/plain")


APP = Starlette(routes=[Route("/plain", _plain), Route("/stream", _stream)])


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[int, list[int]]]:
    sends: list[int] = []
    original = CoalescingTransport.__init__

    def counting_init(self: CoalescingTransport, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        real_write = transport.write

        def write(data: bytes) -> None:
            sends.append(len(data))
            real_write(data)

        original(self, _Proxy(transport, write), loop)  # type: ignore[arg-type]

    monkeypatch.setattr(CoalescingTransport, "__init__", counting_init)
    assert issubclass(http_protocol(), CoalescingHttpToolsProtocol)  # type: ignore[arg-type]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(APP, host="127.0.0.1", port=port, http=CoalescingHttpToolsProtocol, log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port, sends
    finally:
        server.should_exit = True
        await task


class _Proxy:
    def __init__(self, transport: Any, write: Any) -> None:
        self._transport = transport
        self.write = write

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


async def _ask(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=5)  # the server closes (Connection: close)
    writer.close()
    return answer


async def test_a_real_answer_is_one_send_and_arrives_whole(server: tuple[int, list[int]]) -> None:
    port, sends = server
    answer = await _ask(port, b"GET /plain HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b'\r\n\r\n{"ok":true}'), answer
    assert sends == [len(answer)]


async def test_a_streamed_answer_arrives_whole_and_in_order(server: tuple[int, list[int]]) -> None:
    port, _ = server
    answer = await _ask(port, b"GET /stream HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head
    assert body == b"4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n"


async def test_keep_alive_answers_each_arrive(server: tuple[int, list[int]]) -> None:
    port, sends = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(3):
        writer.write(b"GET /plain HTTP/1.1\r\nhost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert await asyncio.wait_for(reader.readexactly(11), timeout=5) == b'{"ok":true}'
    writer.close()
    assert len(sends) == 3
