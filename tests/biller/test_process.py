"""The biller as a real process: ``python -m biller`` under uvicorn, over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest

from setrum.launcher import free_port
from sts.tokens import parse_token
from tests.service_keys import production_key_env, signed_as

from .conftest import METER, TEST_VENDING_KEY, sale_body, simulator_for

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _env(db_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLER_", "SETRUM_"))}
    env.update(
        BILLER_DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
        SETRUM_STS_VENDING_KEY=TEST_VENDING_KEY,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextmanager
def running_biller(db_path: Path, log_path: Path) -> Iterator[str]:
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "biller", "--port", str(port)],
            cwd=REPO, env=_env(db_path), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the biller did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _purchase(base: str, reference: str) -> dict:
    body = orjson.dumps(sale_body(reference))
    headers = {**signed_as("transactions", "biller", "POST", "/v1/purchases", body), "content-type": "application/json"}
    response = httpx.post(f"{base}/v1/purchases", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_real_process_sells_tokens_and_keeps_tids_across_restarts(tmp_path: Path) -> None:
    db_path, log_path = tmp_path / "biller.db", tmp_path / "biller.log"
    meter = simulator_for(METER)
    with running_biller(db_path, log_path) as base:
        first = _purchase(base, "p-1")
        second = _purchase(base, "p-2")
        assert httpx.post(f"{base}/v1/purchases", json={}, timeout=5).status_code == 401
    with running_biller(db_path, log_path) as base:
        replay = _purchase(base, "p-1")
        third = _purchase(base, "p-3")
    assert replay == first
    tokens = [first["token"], second["token"], third["token"]]
    tids = [parse_token(t, meter.decoder_key, meter.base).tid for t in tokens]
    assert tids[0] < tids[1] < tids[2]
    for token in tokens:
        assert meter.enter(token).accepted
    assert meter.credit_tenths == 3 * 675
    log = log_path.read_text()
    assert "issued token" in log
    assert TEST_VENDING_KEY not in log and TEST_VENDING_KEY.lower() not in log


def test_production_process_refuses_the_development_key(tmp_path: Path) -> None:
    env = _env(tmp_path / "biller.db", SETRUM_ENV="production", SETRUM_JWT_SECRET="j" * 40,
               **production_key_env("biller"))  # fmt: skip
    del env["SETRUM_STS_VENDING_KEY"]
    done = subprocess.run(
        [sys.executable, "-m", "biller"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "development STS vending key" in done.stderr
    # With a real key, the production configuration is accepted (checked without serving).
    env["SETRUM_STS_VENDING_KEY"] = TEST_VENDING_KEY
    check = subprocess.run(
        [sys.executable, "-c", "from biller.settings import BillerSettings; BillerSettings(); print('ok')"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert check.stdout.strip() == "ok", check.stderr
    assert TEST_VENDING_KEY not in done.stderr + check.stderr
