"""The router's browser-facing edge: CORS by configuration, CSRF prevention, error masking."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from router.app import create_app
from router.settings import CorsSettings, RouterSettings
from tests.router.http.conftest import ClientFactory
from tests.router.http.fixtures import asgi_client

ORIGIN = "https://app.setrum.example"
HELLO = {"query": "{ hello }"}


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


# --- CSRF ---------------------------------------------------------------------------------


async def test_get_without_a_preflight_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params=HELLO)
    assert response.status_code == 400
    assert _code(response) == "CSRF_ERROR"
    assert "apollo-require-preflight" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("header", ["apollo-require-preflight", "x-apollo-operation-name"])
async def test_get_with_a_preflight_header_runs(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/graphql", params=HELLO, headers={header: "true"})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello world"}}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_simple_post_without_the_header_is_refused_before_anything_runs(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post("/graphql", content=b'{"query": "{ hello }"}', headers={"content-type": content_type})
    assert response.status_code == 400
    assert _code(response) == "CSRF_ERROR"


async def test_json_post_needs_no_header(client: httpx.AsyncClient) -> None:
    # What GraphiQL and the web app send: a JSON POST is never "simple", the browser preflights it.
    response = await client.post("/graphql", json=HELLO)
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_configured_header_and_disabling(make_client: ClientFactory) -> None:
    custom = make_client(csrf={"required_headers": ["x-setrum-client"]})
    assert _code(await custom.get("/graphql", params=HELLO, headers={"apollo-require-preflight": "1"})) == "CSRF_ERROR"
    assert (await custom.get("/graphql", params=HELLO, headers={"x-setrum-client": "web"})).status_code == 200
    off = make_client(csrf={"enabled": False})
    assert (await off.get("/graphql", params=HELLO)).status_code == 200


# --- CORS ---------------------------------------------------------------------------------


async def test_no_cors_headers_without_configured_origins(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=HELLO, headers={"origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


async def test_preflight_is_answered_for_an_allowed_origin(make_client: ClientFactory) -> None:
    client = make_client(cors={"origins": [ORIGIN], "allow_credentials": True})
    preflight = await client.options(
        "/graphql",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "apollo-require-preflight" in allowed
    real = await client.post("/graphql", json=HELLO, headers={"origin": ORIGIN})
    assert real.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in real.headers["access-control-expose-headers"].lower()


async def test_other_origins_get_no_permission(make_client: ClientFactory) -> None:
    client = make_client(cors={"origins": [ORIGIN], "match_origins": r"https://[a-z]+\.setrum\.id"})
    evil = await client.options(
        "/graphql", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
    )
    assert evil.status_code == 400 and "access-control-allow-origin" not in evil.headers
    matched = await client.options(
        "/graphql", headers={"origin": "https://staging.setrum.id", "access-control-request-method": "POST"}
    )
    assert matched.headers["access-control-allow-origin"] == "https://staging.setrum.id"
    real = await client.post("/graphql", json=HELLO, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in real.headers


def test_credentials_with_any_origin_is_refused() -> None:
    with pytest.raises(ValidationError, match="allow_credentials"):
        CorsSettings(origins=["*"], allow_credentials=True)


def test_cors_and_csrf_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTER_CORS__ORIGINS", f'["{ORIGIN}"]')
    monkeypatch.setenv("ROUTER_CSRF__REQUIRED_HEADERS", '["X-Setrum-Client"]')
    settings = RouterSettings()
    assert settings.cors.origins == [ORIGIN]
    assert settings.csrf.required_headers == ["x-setrum-client"]


# --- error masking ------------------------------------------------------------------------


class _BrokenGateway:
    """A gateway with a bug: its exception text must never reach the client."""

    async def execute(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("connection to postgres://setrum:hunter2@db failed")

    async def aclose(self) -> None:
        return None


async def test_unexpected_errors_are_masked_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(RouterSettings(), gateway=_BrokenGateway())
    async with asgi_client(app) as client:
        with caplog.at_level(logging.ERROR):
            response = await client.post("/graphql", json=HELLO, headers={"x-request-id": "req-masking-1"})
    assert response.status_code == 500
    assert "hunter2" not in response.text and "Traceback" not in response.text
    error = response.json()["errors"][0]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-masking-1"}
    assert response.headers["x-request-id"] == "req-masking-1"
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "req-masking-1" in logged and "hunter2" in caplog.text  # the details are in the log only
