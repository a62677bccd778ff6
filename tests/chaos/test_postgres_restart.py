"""PostgreSQL restarts in the middle of a burst. Runs on a throw-away cluster of its own (never the shared
server), so it needs PostgreSQL's server binaries (initdb, pg_ctl) and SETRUM_TEST_POSTGRES_URL set, as CI has."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from setrum.launcher import free_port
from tests.e2e.conftest import SERVICES

from .conftest import Chaos, start_system

_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
pytestmark = pytest.mark.skipif(
    not (_BIN and os.environ.get("SETRUM_TEST_POSTGRES_URL")),
    reason="needs PostgreSQL's server binaries and SETRUM_TEST_POSTGRES_URL",
)


class Cluster:
    """initdb + pg_ctl on a free port, as the postgres user when we are root (initdb refuses root)."""

    def __init__(self, data_dir: Path) -> None:
        self.bin = Path(_BIN[-1])
        self.data_dir = data_dir
        self.port = free_port()

    def _run(self, *argv: str) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd="/", timeout=120)

    def init(self) -> None:
        self.data_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            os.chmod(self.data_dir.parent, 0o755)
            shutil.chown(self.data_dir, "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-m",
            "fast",
            "-w",
            "-l",
            str(self.data_dir / "log"),
            action,
        )

    async def create_databases(self) -> dict[str, str]:
        conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
        try:
            for name in SERVICES:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return {name: f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}" for name in SERVICES}


@pytest.fixture(scope="module")
def cluster_chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Chaos, Cluster]]:
    root = tmp_path_factory.mktemp("chaos-pg-restart")
    # Outside pytest's private temp folder, which the postgres user may not enter.
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="setrum-chaos-pg-")) / "pgdata")
    cluster.init()
    cluster.pg_ctl("start")
    system = None
    try:
        system = start_system(root / "system", asyncio.run(cluster.create_databases()))
        chaos = Chaos(system)
        asyncio.run(chaos.fund_buyers())
        yield chaos, cluster
    finally:
        if system is not None:
            system.stop()
        cluster.pg_ctl("stop")
        shutil.rmtree(cluster.data_dir.parent, ignore_errors=True)


async def test_postgres_restarts_during_a_burst(cluster_chaos: tuple[Chaos, Cluster]) -> None:
    chaos, cluster = cluster_chaos
    task = asyncio.create_task(chaos.burst(30, 4, spread_s=2.0))
    await asyncio.sleep(0.8)
    await asyncio.to_thread(cluster.pg_ctl, "restart")
    burst = await task
    await chaos.retry_unanswered(burst)
    await chaos.settled_and_consistent(burst)
