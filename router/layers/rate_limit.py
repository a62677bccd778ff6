"""Rate limits by rule, shared by the router replicas through the shared store, and the client IP
handed to subgraphs.

A rule (``ROUTER_RATE_LIMITS__RULES``) names root fields; an operation selecting one of them
counts one hit against the rule, per client IP or per customer, in fixed windows kept in the
shared store (:mod:`router.shared_store`), so the limit holds however many replicas serve the
client. Over the limit the request is refused before planning with 429, ``Retry-After`` (seconds
to the end of the window) and a GraphQL error coded ``RATE_LIMITED`` carrying
``retryAfterSeconds``. Operations that name no rule's field never touch the store.

The root fields come from the gateway's own cached, validated operation (no second parse); an
operation the gateway refuses (parse, limits, validation) is not counted and gets its own error.

* **Client IP**: the TCP peer, or, behind ``trusted_proxy_hops`` proxies of ours, the entry that
  many places from the right of ``X-Forwarded-For`` (entries further left are the client's say-so).
* **Customer**: the subject of the token the authentication layer verified. Without verification
  (authentication off) the key is a hash of the bearer token: a client cannot spend another
  customer's budget by naming them, at the price that each token has its own. Anonymous
  requests do not count against per-customer rules (the subgraphs refuse what needs a customer).

The client IP also travels to the subgraphs in ``client_ip_header`` (the users service keys its
sign-in throttle by email and IP), set here after the header rules so a client cannot supply it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from router.errors import RateLimited
from router.http.context import Handler, Layer, RouterRequest, RouterResponse
from router.settings import RateLimitRule, RateLimitSettings
from router.shared_store import SharedStore

__all__ = ["RootFields", "client_ip", "client_ip_layer", "rate_limit_layer"]

logger = logging.getLogger("router.rate_limit")

# (query, operation name) -> the operation's root field names, or None when the gateway refuses it.
RootFields = Callable[[str, str | None], frozenset[str] | None]


def client_ip(request: RouterRequest, trusted_proxy_hops: int) -> str:
    peer = request.http.client.host if request.http.client is not None else "unknown"
    if trusted_proxy_hops <= 0:
        return peer
    forwarded = [part.strip() for part in ",".join(request.http.headers.getlist("x-forwarded-for")).split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < trusted_proxy_hops:
        return peer  # the request did not come through all our proxies
    return forwarded[-trusted_proxy_hops][:64]


def _customer(request: RouterRequest) -> str | None:
    claims = request.claims
    if claims is not None:
        subject = claims.get("sub")
        return f"sub:{subject}" if isinstance(subject, str) and subject else None
    authorization = request.http.headers.get("authorization")
    if authorization and authorization.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:32]
    return None


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: RateLimitRule
    fields: frozenset[str]


def rate_limit_layer(
    settings: RateLimitSettings, store: SharedStore, root_fields: RootFields, *, clock: Callable[[], float] = time.time
) -> Layer:
    rules = [_Rule(rule, frozenset(rule.fields)) for rule in settings.rules]
    watched = frozenset().union(*(r.fields for r in rules)) if rules else frozenset()

    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            params = request.graphql
            assert params is not None, "rate limits run after decoding"
            if not watched or (len(params.query) <= _SCAN_CHARS and not _may_match(params.query, watched)):
                return await inner(request)
            selected = root_fields(params.query, params.operation_name)
            if selected is None or selected.isdisjoint(watched):
                return await inner(request)
            for entry in rules:
                if not selected.isdisjoint(entry.fields):
                    await _count(entry.rule, request, settings.trusted_proxy_hops, store, clock)
            return await inner(request)

        return handle

    return wrap


_SCAN_CHARS = 16_384


def _may_match(query: str, watched: frozenset[str]) -> bool:
    """A cheap first check (substring) before asking the gateway for the root fields; a longer
    text goes straight to the gateway, which refuses an over-long one before looking at it."""
    return any(name in query for name in watched)


async def _count(
    rule: RateLimitRule, request: RouterRequest, hops: int, store: SharedStore, clock: Callable[[], float]
) -> None:
    subject = client_ip(request, hops) if rule.per == "ip" else _customer(request)
    if subject is None:
        return
    hit = await store.hit(f"{rule.name}|{subject}", rule.window_s)
    if hit.hits <= rule.limit:
        return
    retry_after = max(1, math.ceil(hit.window_ends_at - clock()))
    logger.info(
        "rate limit %s refused a request (%s hits in the window, limit %s)",
        rule.name, hit.hits, rule.limit,
        extra={"request_id": request.request_id, "rule": rule.name},
    )  # fmt: skip
    raise RateLimited(f"Too many requests ({rule.name}); retry in {retry_after} seconds", retry_after_s=retry_after)


def client_ip_layer(header: str, trusted_proxy_hops: int) -> Layer:
    """Put the client IP in ``header`` of every subgraph request (after the header rules, so it
    replaces anything the client sent under that name)."""

    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            headers: Mapping[str, Any] = request.subgraph_headers
            ip = client_ip(request, trusted_proxy_hops)
            return await inner(request.evolve(subgraph_headers={**headers, header: ip}))

        return handle

    return wrap
