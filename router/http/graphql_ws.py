"""GraphQL over WebSocket (the ``graphql-transport-ws`` subprotocol) on ``/graphql``.

    client                          router
    connection_init {payload} ─────>  authenticate (token in the payload, else the handshake's header)
                              <─────  connection_ack            (bad token: close 4403)
    subscribe {id, payload}   ─────>  validate, authorize, plan; subscribe to the owning subgraph
                              <─────  next {id, payload} ...    (one per event, entity fields resolved)
                              <─────  complete {id}             (or error {id, [errors]} when refused)
    complete {id}             ─────>  stop that operation (its subgraph subscription is closed)
    ping / pong               <────>  answered / ignored

Close codes as the protocol defines them: 4400 malformed message, 4401 subscribe before the ack, 4403
authentication refused (or the token expired while the socket was open), 4406 the subprotocol was not
offered, 4408 no ``connection_init`` within ``connection_init_timeout_s``, 4409 an id already running, 4429 a
second ``connection_init``. A socket runs at most ``max_per_connection`` operations at once and every
subscription takes one of the process's slots (:class:`router.http.subscriptions.SubscriptionSlots`); past
either, that operation gets an ``error`` with ``SUBSCRIPTION_LIMIT`` and the socket stays open. Closing the
socket stops all its operations. Queries and mutations are answered too (one ``next``, then ``complete``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from router.errors import HttpRequestError, Unauthenticated, error_dict
from router.layers.authentication import EdgeAuthenticator
from router.layers.headers import compute_subgraph_headers
from router.layers.reload import GatewayPool
from router.settings import HeaderRules, SubscriptionSettings
from setrum_common.closing import aclose

from .decode import parse_params
from .subscriptions import SubscriptionSlots, limit_error, run_operation

__all__ = ["GRAPHQL_TRANSPORT_WS", "GraphQLWebSocket"]

logger = logging.getLogger("router.graphql_ws")

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class GraphQLWebSocket:
    """The ASGI app behind the ``/graphql`` WebSocket route."""

    def __init__(
        self,
        pool: GatewayPool,
        settings: SubscriptionSettings,
        slots: SubscriptionSlots,
        *,
        authenticator: EdgeAuthenticator | None,
        header_rules: HeaderRules,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._slots = slots
        self._authenticator = authenticator
        self._header_rules = header_rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        socket = WebSocket(scope, receive, send)
        if GRAPHQL_TRANSPORT_WS not in scope.get("subprotocols", ()):
            await socket.accept()
            await socket.close(4406, "Subprotocol not acceptable")
            return
        await socket.accept(subprotocol=GRAPHQL_TRANSPORT_WS)
        connection = _SocketSession(self, socket)
        try:
            await connection.serve()
        except _Close as closing:
            await connection.stop_all()
            if socket.application_state != WebSocketState.DISCONNECTED:
                with contextlib.suppress(Exception):
                    await socket.close(closing.code, closing.reason)
        except WebSocketDisconnect:
            await connection.stop_all()
        finally:
            await connection.stop_all()


class _SocketSession:
    """One socket's state: the caller's claims once the connection is initialised, and its running operations by id."""

    def __init__(self, app: GraphQLWebSocket, socket: WebSocket) -> None:
        self.app = app
        self.socket = socket
        self.claims: Mapping[str, Any] | None = None
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.request_id = uuid.uuid4().hex
        self.send_lock = asyncio.Lock()

    async def serve(self) -> None:
        settings = self.app._settings
        try:
            async with asyncio.timeout(settings.connection_init_timeout_s):
                first = await self._receive()
        except TimeoutError:
            raise _Close(4408, "Connection initialisation timeout") from None
        if first.get("type") != "connection_init":
            raise _Close(4401, "Unauthorized")
        await self._init(first.get("payload"))
        expires = _expiry(self.claims)
        while True:
            try:
                async with asyncio.timeout(None if expires is None else max(expires - time.time(), 0.0)):
                    message = await self._receive()
            except TimeoutError:
                raise _Close(4403, "Forbidden: the token expired") from None
            await self._handle(message)

    async def _receive(self) -> dict[str, Any]:
        raw = await self.socket.receive()
        if raw["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(raw.get("code", 1000))
        text = raw.get("text")
        if text is None and raw.get("bytes") is not None:
            text = raw["bytes"].decode("utf-8", "replace")
        try:
            message = orjson.loads(text or "")
        except orjson.JSONDecodeError:
            raise _Close(4400, "Invalid message received") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _Close(4400, "Invalid message received")
        return message

    async def _init(self, payload: Any) -> None:
        if payload is not None and not isinstance(payload, dict):
            raise _Close(4400, "Invalid connection_init payload")
        authenticator = self.app._authenticator
        if authenticator is not None:
            headers = _auth_headers(self.socket.headers, payload or {})
            try:
                self.claims = await authenticator.authenticate(headers)
            except Unauthenticated as refused:
                raise _Close(4403, f"Forbidden: {refused.message}"[:120]) from None
        await self._send({"type": "connection_ack"})

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            pong: dict[str, Any] = {"type": "pong"}
            if isinstance(message.get("payload"), dict):
                pong["payload"] = message["payload"]
            await self._send(pong)
        elif kind == "pong":
            return
        elif kind == "connection_init":
            raise _Close(4429, "Too many initialisation requests")
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            op_id = message.get("id")
            task = self.operations.pop(op_id, None) if isinstance(op_id, str) else None
            if task is not None:
                task.cancel()
        else:
            raise _Close(4400, f"Unknown message type {kind!r}"[:120])

    async def _subscribe(self, message: dict[str, Any]) -> None:
        op_id = message.get("id")
        if not isinstance(op_id, str) or not op_id:
            raise _Close(4400, "subscribe needs an id")
        if op_id in self.operations:
            raise _Close(4409, f"Subscriber for {op_id} already exists"[:120])
        try:
            params = parse_params(message.get("payload"), source="subscribe payload")
        except HttpRequestError as bad:
            await self._send({"id": op_id, "type": "error", "payload": bad.body()["errors"]})
            return
        if len(self.operations) >= self.app._settings.max_per_connection:
            await self._send({"id": op_id, "type": "error", "payload": [limit_error("on this connection")]})
            return
        slots = self.app._slots
        if not slots.acquire():
            await self._send({"id": op_id, "type": "error", "payload": [limit_error("on this router")]})
            return
        task = asyncio.create_task(self._run(op_id, params), name=f"graphql-ws {op_id}")
        self.operations[op_id] = task

        def finished(done: asyncio.Task[None]) -> None:  # also when cancelled before it ever ran
            slots.release()
            if self.operations.get(op_id) is done:
                del self.operations[op_id]

        task.add_done_callback(finished)

    async def _run(self, op_id: str, params: Any) -> None:
        try:
            headers = compute_subgraph_headers(self.app._header_rules, self.socket.headers, request_id=self.request_id)
            async with self.app._pool.lease() as gateway:
                started = await run_operation(
                    gateway, params, subgraph_headers=headers, claims=self.claims, allow_mutations=True
                )
                if started.events is None:
                    assert started.single is not None
                    if started.refused:
                        await self._send({"id": op_id, "type": "error", "payload": started.single.get("errors", [])})
                        return
                    await self._send({"id": op_id, "type": "next", "payload": started.single})
                else:
                    try:
                        async for body in started.events:
                            await self._send({"id": op_id, "type": "next", "payload": body})
                    finally:
                        await aclose(started.events)
            await self._send({"id": op_id, "type": "complete"})
        except Exception:
            logger.exception("graphql-ws operation %s failed (connection %s)", op_id, self.request_id)
            with contextlib.suppress(Exception):
                error = error_dict("Internal server error", "INTERNAL_SERVER_ERROR", requestId=self.request_id)
                await self._send({"id": op_id, "type": "error", "payload": [error]})

    async def _send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            if self.socket.application_state == WebSocketState.CONNECTED:
                await self.socket.send_text(orjson.dumps(message).decode())

    async def stop_all(self) -> None:
        tasks = list(self.operations.values())
        self.operations.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _auth_headers(handshake: Headers, payload: Mapping[str, Any]) -> dict[str, str]:
    """The handshake's headers, overridden by string entries of the ``connection_init`` payload (browsers
    cannot set headers on a WebSocket; clients put ``Authorization`` there), lower-cased."""
    out = {k.lower(): v for k, v in handshake.items()}
    nested = payload.get("headers")
    for source in (nested if isinstance(nested, dict) else {}, payload):
        for key, value in source.items():
            if isinstance(key, str) and isinstance(value, str):
                out[key.lower()] = value
    return out


def _expiry(claims: Mapping[str, Any] | None) -> float | None:
    exp = claims.get("exp") if claims is not None else None
    return float(exp) if isinstance(exp, int | float) else None
