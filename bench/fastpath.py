"""Section — fastpath: what each fast path saves over its stock path, CPU per operation, same run.

Each fast path in ``setrum_common/fastpath/`` uses a library's private interfaces; it earns that
only while it is clearly cheaper than the stock path beside it. In-process, alternating rounds,
CPU time per operation (the process's; for ``http`` the calling thread's), median of the rounds:

* ``sqlite``: one indexed read and one one-row write transaction through ``Database.run`` on a WAL
  file (inline adapter vs SQLAlchemy's aiosqlite dialect).
* ``http``: a POST and its JSON answer through ``HttpClient`` to a raw HTTP/1.1 server running in
  another thread, so only the client's CPU is counted (our pool vs ``httpx.AsyncClient``).
* ``graphql``: a subgraph's ``/graphql`` called as an ASGI app with the router's kind of request
  (short path vs strawberry's view).

Target: every fast path costs at most 1/``TARGET_RATIO`` of its stock path's CPU.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import orjson

from .common import Load, Report, median, table

__all__ = ["run"]

TARGET_RATIO = 1.3
Op = Callable[[], Awaitable[None]]
_FILES = itertools.count()


async def _cpu_per_op(op: Op, n: int, clock: Callable[[], float]) -> float:
    """Microseconds of CPU per call of ``op`` by ``clock``, after a short warm-up."""
    for _ in range(max(n // 10, 20)):
        await op()
    start = clock()
    for _ in range(n):
        await op()
    return (clock() - start) / n * 1e6


async def _sqlite(fast: bool, directory: Path) -> tuple[Op, Callable[[], Awaitable[None]]]:
    from sqlalchemy import Column, Integer, MetaData, Table, insert, select

    from setrum_common.db import Database

    metadata = MetaData()
    table_ = Table("bench_rows", metadata, Column("id", Integer, primary_key=True), Column("value", Integer))
    db = Database(f"sqlite+aiosqlite:///{directory / ('fast' if fast else 'stock')}-{next(_FILES)}.db", fastpath=fast)
    await db.create_all(metadata)
    counter = iter(range(10**9))

    def read(conn: Any) -> None:
        conn.execute(select(table_.c.value).where(table_.c.id == 1)).first()

    def write(conn: Any) -> None:
        conn.execute(insert(table_), {"id": next(counter) + 10, "value": 1})

    async def op() -> None:
        await db.run(read, one_statement=True)
        await db.run(write, write=True)

    return op, db.dispose


def _serve_http_in_thread() -> tuple[str, Callable[[], None]]:
    """A raw keep-alive HTTP/1.1 server answering every POST with a small JSON body, on its own loop."""
    answer = orjson.dumps({"data": {"tariffs": [{"code": "R1", "rate": "1444.70"}] * 5}})
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(answer),
        answer,
    )
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                writer.write(response)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def thread() -> None:
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        holder["loop"], holder["server"] = loop, server
        holder["url"] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/graphql"
        ready.set()
        loop.run_forever()
        server.close()
        loop.close()

    threading.Thread(target=thread, daemon=True, name="bench-http-server").start()
    ready.wait(10)
    return holder["url"], lambda: holder["loop"].call_soon_threadsafe(holder["loop"].stop)


async def _http(fast: bool, url: str) -> tuple[Op, Callable[[], Awaitable[None]]]:
    from setrum_common.fastpath.http import HttpClient

    client = HttpClient(fast=fast, headers={"content-type": "application/json"})
    body = orjson.dumps({"query": "query Tariffs { tariffs { code rate } }"})

    async def op() -> None:
        answer = await client.post(url, body, {"authorization": "Bearer x"})
        assert answer.status_code == 200

    return op, client.aclose


async def _graphql(fast: bool, directory: Path) -> tuple[Op, Callable[[], Awaitable[None]]]:
    from subgraphs.master.app import create_app
    from subgraphs.master.settings import MasterSettings

    settings = MasterSettings(
        database_url=f"sqlite+aiosqlite:///{directory / ('gq-fast' if fast else 'gq-stock')}-{next(_FILES)}.db",
        schema_mode="create",
        fastpath="on" if fast else "off",
    )
    app = create_app(settings)
    body = orjson.dumps({"query": "query Q { __typename }"})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def op() -> None:
        sent.clear()
        await app(dict(scope), receive, send)
        assert sent[0]["status"] == 200

    async def close() -> None:
        await app.state.db.dispose()

    return op, close


async def _measure(rounds: int, n: dict[str, int]) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {k: {"fast": [], "stock": []} for k in n}
    url, stop_server = _serve_http_in_thread()
    with tempfile.TemporaryDirectory(prefix="setrum-bench-fastpath-") as tmp:
        directory = Path(tmp)
        try:
            for _ in range(rounds):
                for fast in (True, False):
                    label = "fast" if fast else "stock"
                    for name, make in (
                        ("sqlite", lambda f=fast: _sqlite(f, directory)),
                        ("http", lambda f=fast: _http(f, url)),
                        ("graphql", lambda f=fast: _graphql(f, directory)),
                    ):
                        op, close = await make()
                        try:
                            # The HTTP server's thread is not the client's cost; aiosqlite's worker is.
                            clock = time.thread_time if name == "http" else time.process_time
                            results[name][label].append(await _cpu_per_op(op, n[name], clock))
                        finally:
                            await close()
        finally:
            stop_server()
    return results


def run(stack: Any, load: Load, report: Report) -> None:
    quick = load.rounds <= 1
    n = {"sqlite": 300 if quick else 2000, "http": 300 if quick else 3000, "graphql": 300 if quick else 3000}
    results = asyncio.run(_measure(max(load.rounds, 1), n))
    rows = []
    payload: dict[str, Any] = {}
    for name, runs in results.items():
        fast, stock = median(runs["fast"]), median(runs["stock"])
        ratio = stock / fast if fast else float("inf")
        rows.append([name, f"{fast:.0f}", f"{stock:.0f}", f"{ratio:.2f}x"])
        payload[name] = {"fast_us": fast, "stock_us": stock, "ratio": ratio, "runs": runs}
        if ratio < TARGET_RATIO:
            report.fail(
                f"fastpath {name}: stock/fast CPU {ratio:.2f}x < {TARGET_RATIO}x (fast path not worth its fence)"
            )
    print(table(rows, ["path", "fast µs/op", "stock µs/op", "stock/fast"]))
    report.section("fastpath", payload)
