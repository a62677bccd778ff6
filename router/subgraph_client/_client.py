"""The subgraph client protocol and its pooled HTTP implementation.

One :class:`~setrum_common.fastpath.http.HttpClient` serves every subgraph so keep-alive
connections are reused across requests (the router's hot path is dominated by subgraph round
trips); whether it runs our HTTP/1.1 pool or httpx is ``SETRUM_FASTPATH``'s choice. Bodies are
encoded and decoded with orjson. Every foreign failure (transport errors, timeouts, an answer
over the size cap, bad status, bad JSON) is translated here into :class:`SubgraphFetchError`,
so the executor never sees httpx.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx
import orjson

from setrum_common import deadline
from setrum_common.elsewhere import waiting_elsewhere
from setrum_common.fastpath.http import DEFAULT_MAX_RESPONSE_BYTES, HttpClient, ResponseRefused
from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER, RouterSigner

from ._dedupe import Answer, InflightShare, is_query_only
from ._errors import SubgraphFetchError
from ._retry import RetryBudget, RetryPolicy, refused_as_overloaded

__all__ = ["DEFAULT_MAX_CONNECTIONS", "DEFAULT_TIMEOUT_S", "HttpSubgraphClient", "SubgraphClient"]

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_CONNECTIONS = 512

# A retry is sent only if the client's deadline leaves it at least this long.
_RETRY_MIN_LEFT_S = 0.1
_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
# Correlation ids, unique per client request or per fetch (request id, trace propagation): they do
# not change the answer, so they stay out of the de-duplication key (or nothing would ever be shared);
# the shared request carries its leader's.
_CORRELATION_HEADERS = frozenset({"x-request-id", "traceparent", "tracestate"})


class SubgraphClient(Protocol):
    """Anything that can send one GraphQL request body to a named subgraph."""

    async def fetch(self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        """Return the decoded JSON response; raise :class:`SubgraphFetchError` on failure."""
        ...


class HttpSubgraphClient:
    """Pooled HTTP client for subgraphs.

    ``urls`` maps subgraph name to its GraphQL endpoint. ``apps`` (subgraph name to ASGI app)
    switches those subgraphs to in-process mode through ``httpx.ASGITransport``: requests go
    through the same encoding, size, status and JSON checks as over the network.
    ``transport`` replaces the network transport for all subgraphs (tests use MockTransport).
    ``fastpath``: None reads ``SETRUM_FASTPATH``. ``signer`` signs every request (body, target and
    the claims header) so subgraphs can tell it came from this router (setrum_common/trust/).
    ``deduplicate_queries``: identical query fetches in flight at once (same subgraph, body bytes and
    headers, claims header included) share one request, signed once (:mod:`._dedupe`).
    ``retry``: a fetch the subgraph refused as overloaded (before running it) is sent once more after a
    short pause, within a retry budget (:mod:`._retry`); None: never. ``on_retry(subgraph)`` counts them.
    """

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        apps: Mapping[str, Any] | None = None,
        fastpath: bool | None = None,
        deadline_margin_s: float = 0.2,
        max_in_flight: int | None = None,
        signer: RouterSigner | None = None,
        deduplicate_queries: bool = True,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[str], object] | None = None,
    ) -> None:
        self.urls = dict(urls)
        self._retry = RetryBudget(retry) if retry is not None else None
        self._on_retry = on_retry
        self.shared_fetches: InflightShare[Answer] | None = InflightShare() if deduplicate_queries else None
        self._signer = signer
        self._deadline_margin_s = deadline_margin_s
        # Bulkheads: at most ``max_in_flight`` fetches per subgraph; more fail at once, so one slow
        # subgraph cannot tie up every request the router holds (the others keep answering).
        self._max_in_flight = max_in_flight
        self._in_flight: dict[str, int] = {}
        self._timeouts = dict(timeouts or {})
        self._default_timeout = timeout
        mounts: dict[str, httpx.AsyncBaseTransport] = {}
        if apps:
            # Each in-process app gets its own fake origin so the mounts can tell them apart.
            for name, app in apps.items():
                origin = f"http://{_host_label(name)}.in-process"
                mounts[origin] = httpx.ASGITransport(app=app)
                path = httpx.URL(self.urls[name]).raw_path.decode() if name in self.urls else "/graphql"
                self.urls[name] = origin + path
        # What the signature covers of each URL: the path and query as the subgraph sees them.
        self._targets = {name: _target(url) for name, url in self.urls.items()}
        self._client = HttpClient(
            fast=fastpath,
            timeout_s=timeout,
            max_connections=max_connections,
            max_response_bytes=max_response_bytes,
            headers=_JSON_HEADERS,
            transport=transport,
            mounts=mounts,
        )

    async def fetch(self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        url = self.urls.get(subgraph)
        if url is None:
            raise SubgraphFetchError(subgraph, "no URL configured for this subgraph")
        # The client's deadline (less our margin to answer) bounds the whole exchange, and the
        # subgraph is told how long that is, so it times out its own calls first.
        timeout_s = deadline.budget_s(self._timeouts.get(subgraph, self._default_timeout), self._deadline_margin_s)
        content = orjson.dumps(body)
        shared = self.shared_fetches
        query = body.get("query")
        if shared is None or not isinstance(query, str) or not is_query_only(query):
            status, answer = await self._send(subgraph, url, content, headers, timeout_s)
            return _decode(subgraph, status, answer)
        # The key is the request before the deadline header and the signature (fresh per request).
        key = (subgraph, content, tuple(sorted((k, v) for k, v in headers.items() if k not in _CORRELATION_HEADERS)))
        try:
            # A follower keeps its own deadline, and waits on the leader's fetch, not on this router.
            with waiting_elsewhere():
                async with asyncio.timeout(timeout_s):
                    status, answer = await shared.run(
                        key, lambda: self._send(subgraph, url, content, headers, timeout_s)
                    )
        except TimeoutError:
            raise SubgraphFetchError(subgraph, "request timed out") from None
        except SubgraphFetchError as exc:  # a fresh copy per caller: one shared instance would pile up tracebacks
            raise SubgraphFetchError(exc.subgraph, exc.reason, status_code=exc.status_code) from None
        return _decode(subgraph, status, answer)

    async def _send(
        self, subgraph: str, url: str, content: bytes, headers: Mapping[str, str], timeout_s: float
    ) -> Answer:
        """The fetch, sent once more if the subgraph refused it as overloaded (see :mod:`._retry`)."""
        retry = self._retry
        if retry is None:
            return await self._send_once(subgraph, url, content, headers, timeout_s)
        started = time.monotonic()
        retry.deposit()
        status, answer = await self._send_once(subgraph, url, content, headers, timeout_s)
        if not refused_as_overloaded(status, answer):
            return status, answer
        pause = retry.policy.delay_s * random.uniform(0.5, 1.5)  # refused together, not retried together
        left = timeout_s - (time.monotonic() - started) - pause
        if left < _RETRY_MIN_LEFT_S or not retry.withdraw():
            return status, answer
        if self._on_retry is not None:
            self._on_retry(subgraph)
        await asyncio.sleep(pause)
        return await self._send_once(subgraph, url, content, headers, left)

    async def _send_once(
        self, subgraph: str, url: str, content: bytes, headers: Mapping[str, str], timeout_s: float
    ) -> Answer:
        """One request on the wire: deadline header, bulkhead, signature (fresh: its nonce is single-use);
        (status, body bytes)."""
        if deadline.remaining_s() is not None:
            headers = {**headers, **deadline.outgoing(timeout_s)}
        in_flight = self._in_flight.get(subgraph, 0)
        if self._max_in_flight is not None and in_flight >= self._max_in_flight:
            with waiting_elsewhere() as wait:
                wait.refused()  # back-pressure, as a subgraph's 503: the router's limit backs off
            raise SubgraphFetchError(subgraph, f"too many requests in flight ({in_flight}); bulkhead full")
        if self._signer is not None:
            claims = headers.get(CLAIMS_HEADER, "")
            headers = {**headers, SIGNATURE_HEADER: self._signer.sign("POST", self._targets[subgraph], content, claims)}
        self._in_flight[subgraph] = in_flight + 1
        try:
            async with asyncio.timeout(timeout_s):  # in-process (ASGI) subgraphs included
                answer = await self._client.post(url, content, headers, timeout_s=timeout_s)
        except (httpx.TimeoutException, TimeoutError):
            raise SubgraphFetchError(subgraph, "request timed out") from None
        except ResponseRefused as exc:
            raise SubgraphFetchError(subgraph, f"response refused: {exc}") from None
        except httpx.HTTPError as exc:
            raise SubgraphFetchError(subgraph, f"transport error: {type(exc).__name__}") from None
        finally:
            self._in_flight[subgraph] -= 1
        return answer.status_code, answer.content

    async def aclose(self) -> None:
        await self._client.aclose()


def _decode(subgraph: str, status: int, content: bytes) -> dict[str, Any]:
    """Decode a subgraph body; anything but a GraphQL JSON result is a SubgraphFetchError."""
    try:
        decoded = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise SubgraphFetchError(subgraph, f"HTTP {status}, response is not JSON", status_code=status) from None
    if not isinstance(decoded, dict) or ("data" not in decoded and "errors" not in decoded):
        raise SubgraphFetchError(subgraph, f"HTTP {status}, response is not a GraphQL result", status_code=status)
    if status >= 300 and not decoded.get("errors"):
        # A GraphQL body with errors on 4xx/5xx (graphql-response+json) is still usable.
        raise SubgraphFetchError(subgraph, f"HTTP {status}", status_code=status)
    return decoded


def _target(url: str) -> str:
    parsed = httpx.URL(url)
    return parsed.path + (f"?{parsed.query.decode()}" if parsed.query else "")


def _host_label(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()) or "subgraph"
