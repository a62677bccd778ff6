"""The subgraph side of router signing: an ASGI wrapper around the ``/graphql`` endpoint.

Every request (``POST`` and ``GET``, queries, mutations, ``_service { sdl }`` and introspection
alike) must carry a valid router signature (:mod:`.router_signature`); otherwise it is answered
``401`` with a GraphQL error ``UNAUTHENTICATED`` and counted in
``setrum_router_signature_rejected_total{reason}``. A WebSocket (the router's subscriptions, over
graphql-transport-ws) is checked the same way on its opening handshake, a ``GET`` with an empty body
whose signature covers the claims; a refused one is closed before it is accepted (HTTP 403 to the
client). The messages on an accepted socket come from whoever opened it: the router.

A signed request's claims (or ``None``: anonymous) are left in the ASGI scope under
:data:`CLAIMS_SCOPE_KEY` for the request context to build the Viewer from, and the body already read
is handed on to the endpoint.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from ..fastpath.graphql import replay_body
from .claims import CLAIMS_HEADER, decode_claims
from .router_signature import SIGNATURE_HEADER, UNSIGNED, RouterVerifier, SignatureRejected

__all__ = ["CLAIMS_SCOPE_KEY", "RouterSignatureGuard", "claims_in", "request_target"]

logger = logging.getLogger("setrum.trust")

CLAIMS_SCOPE_KEY = "setrum.router_claims"
_MAX_BODY = 4_000_000  # the router sends far less; a direct caller with a huge body is refused here
_SIGNATURE = SIGNATURE_HEADER.encode()
_CLAIMS = CLAIMS_HEADER.encode()


class RouterSignatureGuard:
    def __init__(self, app: ASGIApp, verifier: RouterVerifier, registry: CollectorRegistry) -> None:
        self._app = app
        self._verifier = verifier
        self.rejected = Counter(
            "setrum_router_signature_rejected_total",
            "GraphQL requests refused for lack of a valid router signature",
            ["reason"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        signature = claims = None
        for name, value in scope["headers"]:
            if name == _SIGNATURE:
                signature = value.decode("latin-1")
            elif name == _CLAIMS:
                claims = value.decode("latin-1")
        websocket = kind == "websocket"
        refuse = self._close if websocket else self._refuse
        if signature is None:  # refused before reading a byte of the body
            await refuse(send, "missing", UNSIGNED)
            return
        body = b"" if websocket else await _read_body(receive)
        target = request_target(scope)
        try:
            if body is None:
                raise SignatureRejected("malformed", "request body too large")
            self._verifier.verify(signature, "GET" if websocket else scope["method"], target, body, claims or "")
            decoded = decode_claims(claims) if claims else None
        except SignatureRejected as refused:
            await refuse(send, refused.reason, str(refused))
            return
        except ValueError:
            await refuse(send, "malformed", "malformed claims header")
            return
        scope[CLAIMS_SCOPE_KEY] = decoded
        await self._app(scope, receive if websocket else replay_body(body), send)

    async def _close(self, send: Send, reason: str, message: str) -> None:
        """A WebSocket handshake refused: closing before accepting answers it 403."""
        self.rejected.labels(reason).inc()
        logger.warning("GraphQL WebSocket refused: %s", message)
        await send({"type": "websocket.close", "code": 1008, "reason": "unauthenticated"})

    async def _refuse(self, send: Send, reason: str, message: str) -> None:
        self.rejected.labels(reason).inc()
        logger.warning("GraphQL request refused: %s", message)
        body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]})
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def claims_in(scope: Any) -> tuple[bool, Any]:
    """(whether the guard vouched for this request, its claims)."""
    if CLAIMS_SCOPE_KEY in scope:
        return True, scope[CLAIMS_SCOPE_KEY]
    return False, None


def request_target(scope: Scope) -> str:
    """The request target as the caller signed it (the path as it went on the wire, query included),
    for router signatures and service tokens alike."""
    target: str = scope.get("root_path", "") + scope["path"]
    query = scope.get("query_string")
    return target + "?" + query.decode("latin-1") if query else target
