"""The C open-loop generator the storm bench uses (bench/loadgen/openloop.c), compiled with the machine's C
compiler and run against a small HTTP/1.1 server started here: it sends every request once at its due time
whatever the server does, measures latency from the due time, parses the answers it will meet (lengths,
chunks, closes) and sorts them as the storm section needs."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bench import openloop, storm
from bench.common import free_port
from bench.storm import MARKS, classify_record

pytestmark = pytest.mark.skipif(openloop.compiler() is None, reason="no C compiler (cc, gcc or clang) on this machine")

SUCCESS = b'{"data":{"purchaseToken":{"id":"p1","status":"SUCCESS"}}}'
PENDING = b'{"data":{"purchaseToken":{"id":"p2","status":"PENDING"}}}'
OVERLOADED = b'{"errors":[{"message":"busy","extensions":{"code":"OVERLOADED"}}]}'
FAILED = b'{"data":{"purchaseToken":null},"errors":[{"message":"x","extensions":{"code":"SUBGRAPH_FETCH_FAILED"}}]}'


@dataclass
class Seen:
    path: str
    body: bytes
    at: float
    authorization: str = ""


@dataclass
class Server:
    url: str
    seen: list[Seen] = field(default_factory=list)
    dropped: set[bytes] = field(default_factory=set)


def _answer(status: int, body: bytes, extra: str = "") -> bytes:
    reason = {200: "OK", 503: "Service Unavailable"}[status]
    return f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
    served = 0
    try:
        while True:
            served += 1
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            target = lines[0].split()[1]
            length = next(int(h.split(":")[1]) for h in lines if h.lower().startswith("content-length:"))
            body = await reader.readexactly(length)
            auth = next((h.split(":", 1)[1].strip() for h in lines if h.lower().startswith("authorization:")), "")
            server.seen.append(Seen(target, body, time.monotonic(), auth))
            path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
            if path in ("/ok", "/graphql"):
                writer.write(_answer(200, SUCCESS))
            elif path == "/pending":
                writer.write(_answer(200, PENDING))
            elif path == "/failed":
                writer.write(_answer(200, FAILED))
            elif path == "/busy":
                writer.write(_answer(503, OVERLOADED, "Retry-After: 1\r\n"))
            elif path == "/overloaded":
                writer.write(_answer(200, OVERLOADED))
            elif path == "/chunked":  # "SUCCESS" split over two chunks sent in two writes
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                half = SUCCESS.index(b"CESS")
                writer.write(f"{half:x};ext=1\r\n".encode() + SUCCESS[:half] + b"\r\n")
                await writer.drain()
                await asyncio.sleep(0.005)
                rest = SUCCESS[half:]
                writer.write(f"{len(rest):X}\r\n".encode() + rest + b"\r\n0\r\nX-Trailer: 1\r\n\r\n")
            elif path == "/close":
                writer.write(_answer(200, SUCCESS, "Connection: close\r\n"))
                await writer.drain()
                break
            elif path == "/slow":
                await asyncio.sleep(int(query["ms"][0]) / 1000)
                writer.write(_answer(200, SUCCESS))
            elif path == "/cut":  # half a status line, then the connection is gone
                writer.write(b"HTTP/1.1 20")
                await writer.drain()
                break
            elif path == "/stale":  # as a server closing an idle kept-alive connection just as a request came
                if served > 1 and body not in server.dropped:
                    server.dropped.add(body)
                    break
                writer.write(_answer(200, SUCCESS))
            elif path == "/hang":
                await asyncio.sleep(3600)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The server runs on its own event loop in a thread (the generator is a subprocess the test waits for)."""
    loop = asyncio.new_event_loop()
    port = free_port()
    srv = Server(f"http://127.0.0.1:{port}/")
    started, stop = threading.Event(), asyncio.Event()

    async def main() -> None:
        handlers: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await _serve(reader, writer, srv)
            finally:
                handlers.discard(task)

        listener = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        started.set()
        await stop.wait()
        listener.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await listener.wait_closed()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(10)
    yield srv
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


@pytest.fixture(scope="module")
def binary() -> Path:
    built = openloop.build()
    assert built is not None
    return built


def _templates(*paths: str) -> list[openloop.Template]:
    headers = {"content-type": "application/json", "authorization": "Bearer t"}
    return [openloop.Template("POST", p, headers, b'{"r":"ref-' + openloop.SEQ.encode() + b'"}') for p in paths]


def _refs(server: Server, since: int) -> list[str]:
    return [json.loads(s.body)["r"] for s in server.seen[since:]]


def test_every_request_is_sent_once_at_its_due_time_and_its_answer_classified(server: Server, binary: Path) -> None:
    paths = ["/ok", "/pending", "/chunked", "/busy", "/overloaded", "/close", "/failed"]
    before = len(server.seen)
    done = openloop.run(
        binary, server.url, _templates(*paths), rate=350, seconds=1.0, marks=MARKS, seq_start=1000, timeout_s=5
    )
    records = done.records
    assert len(records) == 350 and done.summary["sent"] == 350
    assert [r.seq for r in records] == list(range(1000, 1350))
    assert all(abs(r.due_s - i / 350) < 1e-5 for i, r in enumerate(records))
    refs = _refs(server, before)
    assert sorted(refs) == sorted(f"ref-{n}" for n in range(1000, 1350))  # each one once: unique references
    expected = {
        "/ok": "success",
        "/pending": "admitted",
        "/chunked": "success",
        "/busy": "refused",
        "/overloaded": "refused",
        "/close": "success",
        "/failed": "error",
    }
    for i, r in enumerate(records):
        assert classify_record(r) == expected[paths[i % len(paths)]], (paths[i % len(paths)], r)
    assert {r.status for r in records} == {200, 503}
    assert not any(r.error for r in records)
    assert done.summary["late"] == 0
    assert all(0 <= r.latency_s < 2 for r in records)


def test_a_slow_server_does_not_slow_the_sending(server: Server, binary: Path) -> None:
    before = len(server.seen)
    done = openloop.run(binary, server.url, _templates("/slow?ms=400"), rate=100, seconds=1.0, timeout_s=5)
    arrivals = sorted(s.at for s in server.seen[before:])
    assert len(arrivals) == 100
    # closed loop on one connection would take 40 s; open loop sends on schedule (slack for a busy box)
    assert arrivals[-1] - arrivals[0] < 1.6
    assert all(r.status == 200 and r.latency_s >= 0.39 for r in done.records)
    assert done.summary["late"] == 0
    assert done.summary["peak_connections"] >= 30  # ~40 in flight at once


def test_latency_counts_from_the_due_time_when_the_connections_run_out(server: Server, binary: Path) -> None:
    """4 connections to a server taking 0.2 s each serve 20/s: requests offered at 100/s wait for a
    connection, and that wait is in their latency (no coordinated omission); they are counted as late."""
    done = openloop.run(
        binary, server.url, _templates("/slow?ms=200"), rate=100, seconds=1.0, max_connections=4, timeout_s=5
    )
    records = done.records
    assert len(records) == 100 and all(r.status == 200 for r in records)
    assert done.summary["peak_connections"] == 4
    assert done.summary["late"] >= 80 and sum(r.late for r in records) == done.summary["late"]
    assert records[0].latency_s < 0.6
    # the last one left ~4 s after it was due (100 requests / 20 per s), less its 1 s offset in the schedule
    assert records[-1].latency_s > 3.0
    firsts, lasts = records[:10], records[-10:]
    assert min(r.latency_s for r in lasts) > max(r.latency_s for r in firsts) + 2.0


def test_timeouts_and_cut_connections_are_errors(server: Server, binary: Path) -> None:
    done = openloop.run(
        binary, server.url, _templates("/hang", "/cut", "/ok"), rate=30, seconds=0.5, marks=MARKS, timeout_s=0.5
    )
    by_path = {p: done.records[i::3] for i, p in enumerate(("/hang", "/cut", "/ok"))}
    assert all(r.error == "timeout" and 0.5 <= r.latency_s < 1.5 for r in by_path["/hang"])
    assert all(r.error in ("closed", "malformed") for r in by_path["/cut"])
    assert all(r.error is None and classify_record(r) == "success" for r in by_path["/ok"])
    assert all(classify_record(r) == "error" for r in by_path["/hang"] + by_path["/cut"])


def test_a_request_lost_on_a_stale_kept_alive_connection_goes_again_once(server: Server, binary: Path) -> None:
    before = len(server.seen)
    done = openloop.run(binary, server.url, _templates("/stale"), rate=40, seconds=0.5, marks=MARKS, timeout_s=5)
    assert all(classify_record(r) == "success" for r in done.records)
    refs = _refs(server, before)
    again = {ref for ref in refs if refs.count(ref) == 2}
    assert again and len(refs) == 20 + len(again) and max(refs.count(ref) for ref in refs) == 2
    assert done.summary["retries"] == len(again) and done.summary["sent"] == 20


def test_a_refused_connection_is_an_error_not_a_hang(binary: Path) -> None:
    started = time.monotonic()
    done = openloop.run(binary, f"http://127.0.0.1:{free_port()}/", _templates("/ok"), rate=50, seconds=0.5)
    assert len(done.records) == 25 and all(r.error == "connect" for r in done.records)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("generator", ["c", "python"])
def test_the_storm_sends_its_purchases_through_either_generator(server: Server, binary: Path, generator: str) -> None:
    """storm.py's own requests (Buyers.templates for C, Buyers.buy for the fallback): the purchase mutation
    with a fresh reference each, spread over the customers' tokens and the meters, sorted the same way."""
    url = server.url.rstrip("/") + "/graphql"
    buyers = storm.Buyers(url, ["tok-a", "tok-b", "tok-c"], ["m1", "m2"])
    buyers.n = 41
    before = len(server.seen)
    run = storm._open_loop(binary if generator == "c" else None, buyers, 60, 0.5)
    assert run.generator == generator and len(run.outcomes) == 30
    assert all(o.kind == "success" for o in run.outcomes)
    assert buyers.n == 71 and run.generator_cpu_s > 0
    seen = server.seen[before:]
    bodies = [json.loads(s.body) for s in seen]
    assert {b["query"] for b in bodies} == {storm.BUY}
    refs = sorted(b["variables"]["r"] for b in bodies)
    assert refs == sorted(f"bench-storm-{buyers.run_id}-{n}" for n in range(42, 72))
    assert {b["variables"]["m"] for b in bodies} == {"m1", "m2"} and {b["variables"]["d"] for b in bodies} == {"20000"}
    assert {s.authorization for s in seen} == {"Bearer tok-a", "Bearer tok-b", "Bearer tok-c"}
    assert {s.path for s in seen} == {"/graphql"}


def test_the_storm_says_when_it_uses_the_python_generator(monkeypatch, capsys) -> None:
    monkeypatch.setenv("SETRUM_BENCH_STORM_GENERATOR", "python")
    assert storm._generator() is None
    assert "generator: Python asyncio" in capsys.readouterr().out
    monkeypatch.delenv("SETRUM_BENCH_STORM_GENERATOR")
    monkeypatch.setattr(openloop, "compiler", lambda: None)
    assert storm._generator() is None
    assert "no C compiler found" in capsys.readouterr().out
