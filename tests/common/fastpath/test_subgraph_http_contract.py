"""The router's subgraph client against raw asyncio servers, on both HTTP paths: framing,
keep-alive, header hygiene, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import orjson
import pytest

from router.subgraph_client import HttpSubgraphClient, SubgraphFetchError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length)


async def _serve(handler: Handler) -> tuple[asyncio.AbstractServer, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/graphql"


def _ok(payload: dict, *, chunked: bool = False, close: bool = False) -> bytes:
    body = orjson.dumps(payload)
    conn = b"Connection: close\r\n" if close else b""
    if chunked:
        mid = len(body) // 2
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:mid], body[mid:]))
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + conn + b"\r\n" + chunks + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), conn, body)


async def test_keep_alive_reuses_one_connection_and_forwards_headers(fast: bool) -> None:
    connections = 0
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                head, body = await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            heads.append(head)
            q = orjson.loads(body)["query"]
            writer.write(_ok({"data": {"echo": q}}, chunked=q == "chunked"))
            await writer.drain()
        writer.close()

    server, url = await _serve(handler)
    client = HttpSubgraphClient({"a": url}, fastpath=fast)
    for q in ("one", "chunked", "three"):
        assert await client.fetch(
            "a", {"query": q}, {"authorization": "Bearer x", "evil\r\nX-Injected": "1", "host": "bad"}
        ) == {"data": {"echo": q}}
    assert connections == 1
    assert b"authorization: Bearer x" in heads[0]
    assert b"X-Injected" not in heads[0] and b"host: bad" not in heads[0]
    await client.aclose()
    server.close()


async def test_a_connection_the_server_closed_is_not_reused(fast: bool) -> None:
    served = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        await _read_request(reader)
        served += 1
        # Answer, then close without saying so: the pooled connection becomes stale.
        writer.write(_ok({"data": {"n": served}}))
        await writer.drain()
        writer.close()

    server, url = await _serve(handler)
    client = HttpSubgraphClient({"a": url}, fastpath=fast)
    assert await client.fetch("a", {"query": "{n}"}, {}) == {"data": {"n": 1}}
    await asyncio.sleep(0.05)
    assert await client.fetch("a", {"query": "{n}"}, {}) == {"data": {"n": 2}}
    await client.aclose()
    server.close()


async def test_timeout_refused_and_garbage(fast: bool) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\noops!")
        await writer.drain()

    slow_server, slow_url = await _serve(slow)
    bad_server, bad_url = await _serve(garbage)
    refused = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    refused_url = f"http://127.0.0.1:{refused.sockets[0].getsockname()[1]}/graphql"
    refused.close()
    await refused.wait_closed()

    client = HttpSubgraphClient(
        {"slow": slow_url, "bad": bad_url, "gone": refused_url}, timeouts={"slow": 0.2}, fastpath=fast
    )
    with pytest.raises(SubgraphFetchError, match="timed out"):
        await client.fetch("slow", {"query": "{x}"}, {})
    with pytest.raises(SubgraphFetchError, match="HTTP 502"):
        await client.fetch("bad", {"query": "{x}"}, {})
    with pytest.raises(SubgraphFetchError, match="transport error"):
        await client.fetch("gone", {"query": "{x}"}, {})
    await client.aclose()
    slow_server.close()
    bad_server.close()


async def test_an_oversized_or_bomb_answer_is_a_fetch_error(fast: bool) -> None:
    import gzip

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, body = await _read_request(reader)
        payload = orjson.dumps({"data": {"x": "y" * 5000}})
        if orjson.loads(body)["query"] == "bomb":
            payload = gzip.compress(payload)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)
            )
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload))
        await writer.drain()
        writer.close()

    server, url = await _serve(huge)
    client = HttpSubgraphClient({"a": url}, max_response_bytes=1000, fastpath=fast)
    with pytest.raises(SubgraphFetchError, match="response refused: response body larger than 1000 bytes"):
        await client.fetch("a", {"query": "plain"}, {})
    with pytest.raises(SubgraphFetchError, match="response refused: decompressed response body larger than 1000"):
        await client.fetch("a", {"query": "bomb"}, {})
    await client.aclose()
    server.close()


def test_no_subgraph_imports_the_router() -> None:
    """Services share HTTP plumbing through setrum_common, never through the router's package."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    offenders = []
    for path in (root / "subgraphs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(root)}: {n}" for n in names if n == "router" or n.startswith("router.")]
    assert not offenders
