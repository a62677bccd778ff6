"""``token inspect`` reading key parameters and history from the biller's database."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import pytest

from biller.app import create_app
from sts.cli import inspect_command

from .conftest import METER, TEST_VENDING_KEY, FrozenClock, SignedClient, make_settings


def _sell(db_path: Path, clock: FrozenClock, references: list[str]) -> list[str]:
    async def run() -> list[str]:
        app = create_app(make_settings(db_path), clock=clock)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as http,
        ):
            client = SignedClient(http)
            return [(await client.purchase(ref))["token"] for ref in references]

    return asyncio.run(run())


def test_inspect_uses_the_register_and_purchase_history(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "biller.db"
    tokens = _sell(db_path, clock, ["insp-1", "insp-2"])
    monkeypatch.setenv("SETRUM_STS_VENDING_KEY", TEST_VENDING_KEY)
    out = io.StringIO()
    code = inspect_command(["--meter", METER, "--database-url", f"sqlite+aiosqlite:///{db_path}", tokens[0]], out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "key from register" in text
    assert "67.5 kWh" in text
    assert "reference insp-1 (SUCCESS)" in text
    assert "1 newer token" in text
    assert "2026-03-01 08:00 UTC" in text
    assert TEST_VENDING_KEY not in text and TEST_VENDING_KEY.lower() not in text

    # A meter missing from the register is a usage error, not a guess.
    other = io.StringIO()
    assert (
        inspect_command(
            ["--meter", "99999999999", "--database-url", f"sqlite+aiosqlite:///{db_path}", tokens[0]], out=other
        )
        == 2
    )
    # No database at all: a clear error and no file created.
    missing = tmp_path / "nothing.db"
    assert inspect_command(["--meter", METER, "--database-url", f"sqlite+aiosqlite:///{missing}", tokens[0]]) == 2
    assert not missing.exists()
