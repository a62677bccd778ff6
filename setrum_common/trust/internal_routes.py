"""Internal routes that accept only named calling services (least privilege between services).

Each internal route says which services may call it::

    guard = InternalGuard(keyring)
    Route("/internal/quote", guard.accepting({"transactions"}, quote), methods=["POST"])

A request without a valid service token for this service is answered 401, a valid one from a
service the route does not accept 403; both are counted in ``setrum_internal_refused_total``
(labels ``route``, ``reason``) on the app's metrics. The handler finds the caller in
``request.state.caller``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

import orjson
from prometheus_client import CollectorRegistry, Counter
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ErrorCode
from .guard import request_target
from .service_keys import ServiceKeyring
from .service_tokens import SERVICE_TOKEN_HEADER, ReplayCache, ServiceAuthError, verify_service_token

__all__ = ["InternalGuard"]

logger = logging.getLogger("setrum.trust")

Endpoint = Callable[[Request], Awaitable[Response]]

_COUNTERS: dict[int, Counter] = {}


def refused_counter(registry: CollectorRegistry) -> Counter:
    """``setrum_internal_refused_total`` on ``registry`` (made once per registry)."""
    counter = _COUNTERS.get(id(registry))
    if counter is None:
        counter = Counter(
            "setrum_internal_refused_total",
            "Internal (service-to-service) requests refused",
            ["route", "reason"],
            registry=registry,
        )
        _COUNTERS[id(registry)] = counter
    return counter


def _refusal(error: ServiceAuthError) -> Response:
    code = ErrorCode.FORBIDDEN if error.status == 403 else ErrorCode.UNAUTHENTICATED
    body = {"error": {"code": code, "message": error.message, "reason": error.reason}}
    return Response(orjson.dumps(body), status_code=error.status, media_type="application/json")


class InternalGuard:
    """Verifies service tokens addressed to ``keyring``'s service, with one replay memory per process."""

    def __init__(self, keyring: ServiceKeyring) -> None:
        self.keyring = keyring
        self._replay = ReplayCache()

    def caller(self, request: Request, body: bytes, accepts: frozenset[str]) -> str:
        """The calling service, or :class:`ServiceAuthError` (counted and logged)."""
        try:
            caller = verify_service_token(
                self.keyring,
                request.headers.get(SERVICE_TOKEN_HEADER),
                request.method,
                request_target(request.scope),
                body,
                replay=self._replay,
            )
            if caller not in accepts:
                raise ServiceAuthError("wrong_service", f"This route does not accept calls from {caller}", 403)
        except ServiceAuthError as error:
            route = getattr(request.scope.get("route"), "path", request.scope["path"])
            observability = getattr(request.app.state, "observability", None)
            if observability is not None:
                refused_counter(observability.registry).labels(route, error.reason).inc()
            logger.warning("internal call refused route=%s reason=%s", route, error.reason)
            raise
        return caller

    def accepting(self, callers: Iterable[str], endpoint: Endpoint) -> Endpoint:
        """``endpoint`` behind the check: only a valid token of one of ``callers`` reaches it."""
        accepts = frozenset(callers)

        async def guarded(request: Request) -> Response:
            body = await request.body()  # starlette keeps it: the endpoint reads it again for free
            try:
                request.state.caller = self.caller(request, body, accepts)
            except ServiceAuthError as error:
                return _refusal(error)
            return await endpoint(request)

        return guarded
