"""Shared service settings: development defaults, and the production rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from setrum_common.settings import ServiceSettings
from tests.service_keys import production_key_env


def test_development_defaults_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SETRUM_ENV", raising=False)
    assert not ServiceSettings().is_production


def test_production_refuses_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETRUM_ENV", "production")
    with pytest.raises(ValidationError, match="development or short"):
        ServiceSettings()
    monkeypatch.setenv("SETRUM_JWT_SECRET", "p" * 40)
    with pytest.raises(ValidationError, match="SETRUM_SERVICE_KEY"):
        ServiceSettings()  # no key of its own: the development key would be used
    for name, value in production_key_env("users").items():
        monkeypatch.setenv(name, value)
    settings = ServiceSettings()
    assert settings.is_production and settings.json_logs
