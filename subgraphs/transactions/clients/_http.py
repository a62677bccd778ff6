"""The one way transactions builds its outbound HTTP clients (to master and to the biller).

Both talk to a sibling service on the same terms: a pooled connection set per process, a total timeout
with a shorter connect timeout, JSON, our user agent, and the caller's traceparent carried on.
"""

from __future__ import annotations

import httpx

from setrum_common.tracing import httpx_event_hooks

__all__ = ["DEFAULT_LIMITS", "service_http_client"]

DEFAULT_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20)


def service_http_client(
    *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None, base_url: str = ""
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for a sibling service; ``transport`` lets tests talk to fakes or ASGI apps."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
        limits=DEFAULT_LIMITS,
        transport=transport,
        headers={"accept": "application/json", "user-agent": "setrum-transactions"},
        event_hooks=httpx_event_hooks(),  # carries the caller's traceparent on
    )
