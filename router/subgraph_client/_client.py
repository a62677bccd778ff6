"""The subgraph client protocol and its pooled httpx implementation.

One ``httpx.AsyncClient`` serves every subgraph so keep-alive connections are reused across
requests (the router's hot path is dominated by subgraph round trips). Bodies are encoded and
decoded with orjson. Every foreign failure (httpx errors, timeouts, bad status, bad JSON) is
translated here into :class:`SubgraphFetchError`, so the executor never sees httpx.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import httpx
import orjson

from ._errors import SubgraphFetchError
from ._transport import KeepAliveTransport

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT_S", "HttpSubgraphClient", "SubgraphClient"]

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_LIMITS = httpx.Limits(max_connections=512, max_keepalive_connections=256, keepalive_expiry=60.0)

_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


class SubgraphClient(Protocol):
    """Anything that can send one GraphQL request body to a named subgraph."""

    async def fetch(self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        """Return the decoded JSON response; raise :class:`SubgraphFetchError` on failure."""
        ...


class _NoCookies(httpx.Cookies):
    """Subgraph calls carry no cookies between requests, so skip httpx's cookie-jar work
    (it builds urllib request/response wrappers for every response)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class _SubgraphHttpClient(httpx.AsyncClient):
    _no_cookies = _NoCookies()

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:  # httpx's __init__ assigns it
        return None


class HttpSubgraphClient:
    """Pooled HTTP client for subgraphs.

    ``urls`` maps subgraph name to its GraphQL endpoint. ``apps`` (subgraph name to ASGI app)
    switches those subgraphs to in-process mode through ``httpx.ASGITransport``: requests go
    through the same encoding, status and JSON checks as over the network.
    ``transport`` replaces the network transport for all subgraphs (tests use MockTransport).

    Network subgraphs go through ``httpx.AsyncClient`` over :class:`KeepAliveTransport`, our
    lean keep-alive HTTP/1.1 transport (``engine="keepalive"``, the default), or over httpx's
    own httpcore transport (``engine="httpx"``: proxies, HTTP/2-ready, slower).
    """

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        timeouts: Mapping[str, float] | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.AsyncBaseTransport | None = None,
        apps: Mapping[str, Any] | None = None,
        engine: str = "keepalive",
    ) -> None:
        self.urls = dict(urls)
        self._timeouts = {name: httpx.Timeout(t) for name, t in (timeouts or {}).items()}
        self._default_timeout = httpx.Timeout(timeout)
        if engine not in ("keepalive", "httpx"):
            raise ValueError(f"unknown subgraph client engine {engine!r} (keepalive, httpx)")
        if transport is None and engine == "keepalive":
            transport = KeepAliveTransport(max_connections_per_origin=limits.max_connections or 512)
        mounts: dict[str, httpx.AsyncBaseTransport] = {}
        if apps:
            # Each in-process app gets its own fake origin so the mounts can tell them apart.
            for name, app in apps.items():
                origin = f"http://{_host_label(name)}.in-process"
                mounts[origin] = httpx.ASGITransport(app=app)
                path = httpx.URL(self.urls[name]).raw_path.decode() if name in self.urls else "/graphql"
                self.urls[name] = origin + path
        # Parsed once: URL parsing is a measurable share of a fetch's CPU.
        self._parsed_urls = {name: httpx.URL(url) for name, url in self.urls.items()}
        self._client = _SubgraphHttpClient(
            limits=limits,
            timeout=self._default_timeout,
            transport=transport,
            mounts=mounts or None,
            http2=False,
        )

    async def fetch(self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        url = self._parsed_urls.get(subgraph)
        if url is None:
            raise SubgraphFetchError(subgraph, "no URL configured for this subgraph")
        if headers:
            send_headers = dict(headers)
            send_headers.update(_JSON_HEADERS)
        else:
            send_headers = _JSON_HEADERS
        # A ready Request skips AsyncClient.build_request's merging of client defaults.
        request = httpx.Request(
            "POST",
            url,
            content=orjson.dumps(body),
            headers=send_headers,
            extensions={"timeout": self._timeouts.get(subgraph, self._default_timeout).as_dict()},
        )
        try:
            response = await self._client.send(request)
        except httpx.TimeoutException:
            raise SubgraphFetchError(subgraph, "request timed out") from None
        except httpx.HTTPError as exc:
            raise SubgraphFetchError(subgraph, f"transport error: {type(exc).__name__}") from None
        return _decode(subgraph, response.status_code, response.content)

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


def _host_label(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()) or "subgraph"
