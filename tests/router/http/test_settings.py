"""RouterSettings: environment syntax, production defaults, closed config."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from router.settings import (
    DEFAULT_HOST,
    DEFAULT_MAX_DEPTH,
    DEFAULT_PORT,
    DEFAULT_SUPERGRAPH_PATH,
    RouterSettings,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("ROUTER_") or name == "SETRUM_ENV":
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = RouterSettings()
    assert (s.host, s.port, s.supergraph) == (DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SUPERGRAPH_PATH)
    assert s.env == "development"
    assert s.graphiql_enabled and s.introspection_enabled and not s.json_logs
    assert s.headers.propagate == ["authorization"]
    assert s.limits.max_depth == DEFAULT_MAX_DEPTH
    assert s.query_plan.expose is False
    assert s.batching.enabled is False


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTER_PORT", "4100")
    monkeypatch.setenv("ROUTER_SUPERGRAPH", "/tmp/sg.graphql")
    monkeypatch.setenv("ROUTER_SUBGRAPHS__URLS__users", "http://users:8001/graphql")
    monkeypatch.setenv("ROUTER_SUBGRAPHS__TIMEOUTS__transactions", "2.5")
    monkeypatch.setenv("ROUTER_LIMITS__MAX_DEPTH", "7")
    monkeypatch.setenv("ROUTER_HEADERS__PROPAGATE", '["Authorization", "X-Tenant"]')
    monkeypatch.setenv("ROUTER_HOT_RELOAD__POLL_INTERVAL_S", "0.5")
    s = RouterSettings()
    assert s.port == 4100
    assert s.supergraph == Path("/tmp/sg.graphql")
    assert s.subgraphs.urls == {"users": "http://users:8001/graphql"}
    assert s.subgraphs.timeouts == {"transactions": 2.5}
    assert s.limits.max_depth == 7
    assert s.headers.propagate == ["authorization", "x-tenant"]
    assert s.hot_reload.poll_interval_s == 0.5


def test_production_turns_off_graphiql_and_introspection_unless_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETRUM_ENV", "production")
    s = RouterSettings()
    assert s.production and not s.graphiql_enabled and not s.introspection_enabled and s.json_logs
    monkeypatch.setenv("ROUTER_GRAPHIQL", "true")
    assert RouterSettings().graphiql_enabled and not RouterSettings().introspection_enabled


@pytest.mark.parametrize("name", ["ROUTER_LIMIT__MAX_DEPTH", "ROUTER_SUBGRAPH_URLS__users", "router_prot"])
def test_unknown_environment_variables_are_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "1")
    with pytest.raises(ValidationError, match=name):
        RouterSettings()


def test_unknown_nested_environment_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTER_LIMITS__MAX_DEPT", "3")
    with pytest.raises(ValidationError):
        RouterSettings()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unknown": 1},
        {"limits": {"max_dept": 3}},
        {"env": "staging"},
        {"port": 70000},
        {"subgraphs": {"timeouts": {"users": 0}}},
        {"log_level": "LOUD"},
    ],
)
def test_invalid_config_is_refused(kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        RouterSettings(**kwargs)
