"""The provider's secret and simulator in production: the development secret stops it, the simulator is off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from payments.app import create_app
from payments.settings import PaymentsSettings
from tests.service_keys import production_key_env, production_key_settings

STRONG: dict[str, Any] = {
    "jwt_secret": SecretStr("j" * 40),
    "payments_secret": SecretStr("p" * 40),
    **production_key_settings("payments"),
}


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="SETRUM_PAYMENTS_SECRET"):
        PaymentsSettings(
            environment="production", jwt_secret=STRONG["jwt_secret"], **production_key_settings("payments")
        )
    assert PaymentsSettings(environment="production", **STRONG).is_production


def test_the_process_exits_with_the_reason_and_no_secret(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SETRUM_ENV": "production",
        "SETRUM_JWT_SECRET": "j" * 40,
        **production_key_env("payments"),
        "PAYMENTS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/p.db",
    }
    env.pop("SETRUM_PAYMENTS_SECRET", None)
    done = subprocess.run([sys.executable, "-m", "payments"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "payments: configuration error" in done.stderr
    assert "dev-only" not in done.stderr


async def test_the_simulator_is_off_in_production_unless_asked(tmp_path: Path) -> None:
    settings = PaymentsSettings(environment="production", database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db", **STRONG)
    assert not settings.simulator_enabled
    assert PaymentsSettings(environment="production", simulator=True, **STRONG).simulator_enabled
    assert PaymentsSettings().simulator_enabled  # development
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://payments") as http,
    ):
        for path in ("/v1/simulator/pay", "/pay"):
            response = await http.post(path, json={"handle": "8808000000000000"})
            assert response.status_code == 404 and response.json()["code"] == "SIMULATOR_DISABLED"
        assert (await http.get("/ready")).status_code == 200
