"""Router -> subgraph subscriptions over graphql-transport-ws (one WebSocket per client subscription).

The socket's opening handshake is a ``GET`` to the subgraph's GraphQL URL (``http`` becomes ``ws``), signed
like every other subgraph request (empty body; the claims header rides along and is covered by the
signature), so a subgraph's router-signature guard accepts it from this router only and builds the viewer
from those claims. Then: ``connection_init`` -> ``connection_ack`` -> one ``subscribe``; each ``next``
payload is yielded, ``error`` is yielded as a result with errors and ends the stream, ``complete`` ends it,
``ping`` is answered ``pong``. Closing the generator (the client went away) sends ``complete`` and closes
the socket, so the subgraph stops its resolver at once.

Every failure (refused handshake, timeout, a socket closed mid-stream, a malformed message) is a
:class:`SubgraphFetchError`, like a failed fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER, RouterSigner

from ._errors import SubgraphFetchError

__all__ = ["GRAPHQL_TRANSPORT_WS", "SubgraphSubscriber"]

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
_OPERATION_ID = "1"


class SubgraphSubscriber:
    """Opens subscriptions on subgraphs. ``urls``: subgraph name -> its GraphQL HTTP URL; ``signer`` signs each
    handshake; ``max_message_bytes`` caps one event (as ``max_response_bytes`` caps an answer)."""

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        signer: RouterSigner | None = None,
        connect_timeout_s: float = 10.0,
        max_message_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self.urls = dict(urls)
        self._signer = signer
        self._connect_timeout_s = connect_timeout_s
        self._max_message_bytes = max_message_bytes
        self.opened = 0  # sockets open now (tests and metrics read it)

    async def subscribe(
        self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]
    ) -> AsyncIterator[dict[str, Any]]:
        """The subgraph's results for ``body`` (``{query, variables, operationName}``), one per event."""
        url = self.urls.get(subgraph)
        if url is None:
            raise SubgraphFetchError(subgraph, "no URL configured for this subgraph")
        ws_url, target = _ws_url(url)
        out = {k: v for k, v in headers.items() if k.lower() not in _NOT_ON_HANDSHAKE}
        if self._signer is not None:
            out[SIGNATURE_HEADER] = self._signer.sign("GET", target, b"", headers.get(CLAIMS_HEADER, ""))
        try:
            socket = await connect(
                ws_url,
                # websockets types a subprotocol as its own NewType of str
                subprotocols=[GRAPHQL_TRANSPORT_WS],  # type: ignore[list-item]
                additional_headers=out,
                open_timeout=self._connect_timeout_s,
                max_size=self._max_message_bytes,
                compression=None,
                proxy=None,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise SubgraphFetchError(subgraph, f"subscription refused: {_reason(exc)}") from None
        self.opened += 1
        finished = False
        try:
            await self._start(socket, subgraph, body)
            while True:
                message = await self._receive(socket, subgraph)
                kind = message.get("type")
                if kind == "ping":
                    await socket.send(orjson.dumps({"type": "pong"}).decode())
                elif kind == "next" and message.get("id") == _OPERATION_ID:
                    payload = message.get("payload")
                    if not isinstance(payload, dict):
                        raise SubgraphFetchError(subgraph, "subscription sent a malformed event")
                    yield payload
                elif kind == "error" and message.get("id") == _OPERATION_ID:
                    finished = True
                    errors = message.get("payload")
                    yield {"data": None, "errors": errors if isinstance(errors, list) else [{"message": str(errors)}]}
                    return
                elif kind == "complete" and message.get("id") == _OPERATION_ID:
                    finished = True
                    return
        finally:
            self.opened -= 1
            await _close(socket, send_complete=not finished)

    async def _start(self, socket: ClientConnection, subgraph: str, body: dict[str, Any]) -> None:
        await socket.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        async with _deadline(self._connect_timeout_s, subgraph):
            while True:
                message = await self._receive(socket, subgraph)
                if message.get("type") == "connection_ack":
                    break
                if message.get("type") == "ping":
                    await socket.send(orjson.dumps({"type": "pong"}).decode())
        await socket.send(orjson.dumps({"id": _OPERATION_ID, "type": "subscribe", "payload": body}).decode())

    @staticmethod
    async def _receive(socket: ClientConnection, subgraph: str) -> dict[str, Any]:
        try:
            raw = await socket.recv()
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
            raise SubgraphFetchError(subgraph, f"subscription closed by the subgraph ({code})") from None
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise SubgraphFetchError(subgraph, "subscription sent a message that is not JSON") from None
        if not isinstance(message, dict):
            raise SubgraphFetchError(subgraph, "subscription sent a malformed message")
        return message


# Headers the WebSocket handshake sets itself, or that describe a JSON POST body.
_NOT_ON_HANDSHAKE = frozenset(
    {"content-type", "content-length", "accept", "connection", "upgrade", "host", "sec-websocket-protocol"}
)


@contextlib.asynccontextmanager
async def _deadline(seconds: float, subgraph: str) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise SubgraphFetchError(subgraph, "subscription not acknowledged in time") from None


async def _close(socket: ClientConnection, *, send_complete: bool) -> None:
    """Best effort: a socket that already failed has nothing to tell."""
    with contextlib.suppress(Exception):
        if send_complete:
            await socket.send(orjson.dumps({"id": _OPERATION_ID, "type": "complete"}).decode())
    with contextlib.suppress(Exception):
        await asyncio.wait_for(socket.close(), timeout=2.0)


def _ws_url(url: str) -> tuple[str, str]:
    """(the WebSocket URL, the path and query the signature covers)."""
    parsed = httpx.URL(url)
    scheme = {"http": "ws", "https": "wss"}.get(parsed.scheme, parsed.scheme)
    target = parsed.path + (f"?{parsed.query.decode()}" if parsed.query else "")
    return str(parsed.copy_with(scheme=scheme)), target


def _reason(exc: BaseException) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is not None:
        return f"HTTP {status}"
    return type(exc).__name__
