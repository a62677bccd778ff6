"""Request-head limits over real HTTP (uvicorn on a free port): the router and every service answer 431
to a header over 8 KB or a head over 16 KB, and the router forwards nothing of such a request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from router.app import create_app as create_router
from router.settings import RouterSettings
from tests.router.http.fixtures import SUPERGRAPH_V1, AccountsSubgraph, make_gateway
from tests.router.http.server import running_router


async def _nothing() -> None:
    return None


def _service(name: str, tmp_path: Path) -> Callable[[], tuple[Starlette, Callable[[], Any]]]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / name}.db"

    def make_app() -> tuple[Starlette, Callable[[], Any]]:
        if name == "biller":
            from biller.app import create_app
            from biller.settings import BillerSettings

            return create_app(BillerSettings(database_url=database_url, schema_mode="create")), _nothing
        module = __import__(f"subgraphs.{name}.app", fromlist=["create_app"])
        settings_module = __import__(f"subgraphs.{name}.settings", fromlist=["*"])
        settings_class = getattr(settings_module, f"{name.capitalize()}Settings")
        return module.create_app(settings_class(database_url=database_url, schema_mode="create")), _nothing

    return make_app


@pytest.fixture(params=["users", "master", "transactions", "biller"])
def service_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with running_router(_service(request.param, tmp_path)) as url:
        yield url


def _assert_431(response: httpx.Response) -> None:
    assert response.status_code == 431, response.text
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE"


def _check_limits(url: str, path: str) -> None:
    with httpx.Client(timeout=30) as client:
        assert client.get(url + path, headers={"x-pad": "a" * 7000}).status_code == 200
        _assert_431(client.get(url + path, headers={"x-pad": "a" * 9000}))
        _assert_431(client.get(url + path, headers={f"x-pad-{i}": "a" * 6000 for i in range(3)}))
        _assert_431(client.get(url + path + "?q=" + "a" * 17000))
        _assert_431(
            client.post(
                url + "/graphql",
                json={"query": "{ __typename }"},
                headers={"authorization": "Bearer " + "a" * 8_000_000},
            )
        )
        assert client.get(url + path).status_code == 200  # the server is fine afterwards


def test_every_service_answers_431_to_oversized_headers(service_url: str) -> None:
    _check_limits(service_url, "/health")


def test_the_router_answers_431_and_forwards_nothing() -> None:
    subgraph = AccountsSubgraph()

    def make_app() -> tuple[Starlette, Callable[[], Any]]:
        gateway, _ = make_gateway(SUPERGRAPH_V1, subgraph)
        return create_router(RouterSettings(), gateway=gateway), gateway.aclose

    with running_router(make_app) as url:
        _check_limits(url, "/health")
        assert subgraph.received == []
        ok = httpx.post(url + "/graphql", json={"query": "{ me { name } }"}, headers={"authorization": "Bearer x"})
        assert ok.json() == {"data": {"me": {"name": "Ada"}}}
        assert len(subgraph.received) == 1


def test_the_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETRUM_MAX_REQUEST_HEAD_BYTES", "4096")
    monkeypatch.setenv("SETRUM_MAX_HEADER_BYTES", "1024")
    subgraph = AccountsSubgraph()

    def make_app() -> tuple[Starlette, Callable[[], Any]]:
        gateway, _ = make_gateway(SUPERGRAPH_V1, subgraph)
        return create_router(RouterSettings(), gateway=gateway), gateway.aclose

    with running_router(make_app) as url:
        assert httpx.get(url + "/health", headers={"x-pad": "a" * 900}).status_code == 200
        _assert_431(httpx.get(url + "/health", headers={"x-pad": "a" * 1100}))
        _assert_431(httpx.get(url + "/health", headers={f"x-pad-{i}": "a" * 900 for i in range(5)}))
