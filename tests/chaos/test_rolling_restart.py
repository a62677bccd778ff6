"""Restarts an operator does on purpose, during a burst of purchases.

- Worker processes: transactions and the router each run two workers (``*_WORKERS=2``); SIGTERM to the parent
  makes every worker stop being ready, finish the purchases it holds and exit.
- A rolling restart on PostgreSQL: two replicas of transactions and two of the router, each pair behind a small
  load balancer (the test's stand-in for the one a deployment has: new connections go to replicas whose
  ``/ready`` answers 200). While purchases keep coming, each replica in turn gets SIGTERM and is started again.
  No client sees an error, every purchase settles, and the money and token invariants hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from setrum.launcher import System, SystemPorts, free_port
from setrum_common.demo_data import METERS
from tests.e2e.conftest import SERVICES, create_postgres_databases

from .conftest import BUY, BUYERS, CHAOS_ENV, Burst, Chaos, _purchase, start_system

# Purchases go round these meters, so none reaches its monthly kWh cap during the roll.
ROLLING_METERS = [m.number for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014 and m.power_va >= 3500]


def _workers(pid: int) -> set[int]:
    """The worker processes of a service (its spawned children; not multiprocessing's resource tracker)."""
    try:
        children = {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except FileNotFoundError:
        return set()
    return {c for c in children if b"spawn_main" in _cmdline(c)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def workers_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    drain = {"TRANSACTIONS_SHUTDOWN_DRAIN_S": "3", "ROUTER_SHUTDOWN_DRAIN_S": "3"}  # time to probe /ready
    workers = {"TRANSACTIONS_WORKERS": "2", "ROUTER_WORKERS": "2"}
    system = start_system(tmp_path_factory.mktemp("workers"), {}, {**drain, **workers})
    try:
        harness = Chaos(system)
        asyncio.run(harness.fund_buyers())
        yield harness
    finally:
        system.stop()


@pytest.mark.parametrize("victim", ["transactions", "router"])
async def test_sigterm_to_the_parent_drains_every_worker(workers_system: Chaos, victim: str) -> None:
    chaos = workers_system
    meter = [m for m in METERS if m.status == "ACTIVE" and m.sts_base_date == 2014][8].number
    fault = await chaos.biller("PUT", "/v1/faults", {"mode": "delay", "meterNumber": meter, "delayMs": 2000})
    assert fault.status_code < 300, fault.text
    process = chaos.system.processes[victim]
    workers = _workers(process.pid)
    assert len(workers) == 2, workers
    base_url = chaos.system.spec(victim).base_url
    try:
        # Separate connections, so the kernel hands them to both workers.
        clients = [httpx.AsyncClient(timeout=30) for _ in range(8)]
        in_flight = [
            asyncio.create_task(
                chaos.graphql(
                    http,
                    BUY,
                    {"meter": meter, "denomination": "20000", "ref": f"workers-{uuid.uuid4().hex[:12]}"},
                    BUYERS[i % len(BUYERS)],
                )
            )
            for i, http in enumerate(clients)
        ]
        await asyncio.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        await asyncio.sleep(0.3)
        while time.monotonic() - signalled < 2.0:  # a new connection each time: any worker may take it
            async with httpx.AsyncClient(timeout=1) as probe:
                ready = await probe.get(base_url + "/ready")
            assert ready.status_code == 503 and ready.json()["status"] == "DRAINING", ready.text
        answers = await asyncio.gather(*in_flight)
        for http in clients:
            await http.aclose()
        assert [a["data"]["purchaseToken"]["status"] for a in answers] == ["SUCCESS"] * len(answers), answers
        assert await asyncio.to_thread(process.wait, 20) == 0
        assert not [pid for pid in workers if _alive(pid)], "a worker outlived its parent"
    finally:
        await chaos.biller("DELETE", "/v1/faults")
        await asyncio.to_thread(chaos.system.restart, victim)
    assert len(await _workers_within(chaos.system.processes[victim].pid, 2, 15.0)) == 2


async def _workers_within(pid: int, count: int, seconds: float) -> set[int]:
    """The workers of ``pid`` once there are ``count`` of them (or when ``seconds`` ran out): a restarted
    service is ready when its first worker answers, and the second may still be starting (seen in CI)."""
    deadline = time.monotonic() + seconds
    while len(workers := _workers(pid)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return workers


class Balancer:
    """A TCP load balancer for the test: each new connection goes to the next replica whose /ready answered
    200 at the last probe (every 100 ms); a replica that refuses the connection is skipped."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.ready = dict.fromkeys(ports, True)
        self.turn = itertools.count()
        self.port = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Balancer]:
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        probing = asyncio.create_task(self._probe())
        try:
            yield self
        finally:
            probing.cancel()
            server.close()

    async def _probe(self) -> None:
        async with httpx.AsyncClient(timeout=0.5) as http:
            while True:
                for port in self.ports:
                    try:
                        self.ready[port] = (await http.get(f"http://127.0.0.1:{port}/ready")).status_code == 200
                    except httpx.HTTPError:
                        self.ready[port] = False
                await asyncio.sleep(0.1)

    async def _connection(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        start = next(self.turn)
        rotated = [self.ports[(start + i) % len(self.ports)] for i in range(len(self.ports))]
        for port in [p for p in rotated if self.ready[p]] + [p for p in rotated if not self.ready[p]]:
            try:
                upstream_in, upstream_out = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            client_out.close()
            return
        await asyncio.gather(self._pipe(client_in, upstream_out), self._pipe(upstream_in, client_out))

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                sink.close()


pytestmark_postgres = pytest.mark.skipif(
    not os.environ.get("SETRUM_TEST_POSTGRES_URL"), reason="SETRUM_TEST_POSTGRES_URL not set"
)


@pytestmark_postgres
async def test_rolling_restart_of_transactions_and_the_router_loses_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    database_urls = await asyncio.to_thread(create_postgres_databases, "setrum_rolling", SERVICES)
    first_ports = SystemPorts(*(free_port() for _ in range(5)))
    second_ports = SystemPorts(
        router=free_port(),
        users=first_ports.users,
        master=first_ports.master,
        transactions=free_port(),
        biller=first_ports.biller,
    )
    transactions_lb = Balancer([first_ports.transactions, second_ports.transactions])
    router_lb = Balancer([first_ports.router, second_ports.router])
    async with transactions_lb.running(), router_lb.running():
        env = {
            **CHAOS_ENV,
            "ROUTER_SUBGRAPHS__URLS__transactions": f"http://127.0.0.1:{transactions_lb.port}/graphql",
            "MASTER_TRANSACTIONS_URL": f"http://127.0.0.1:{transactions_lb.port}",
        }
        systems = [
            System(
                data_dir,
                ports=ports,
                database_urls=database_urls,
                seed=index == 0,
                log_dir=data_dir / "logs",
                extra_env=env,
            )
            for index, (ports, data_dir) in enumerate(
                (p, tmp_path_factory.mktemp(f"rolling-{i}")) for i, p in enumerate([first_ports, second_ports])
            )
        ]
        # Each router signs with its own key; every subgraph replica trusts both routers.
        keyring = ",".join(system.router_public_keys for system in systems)
        for system in systems:
            system.extra_env["SETRUM_ROUTER_PUBLIC_KEYS"] = keyring
        try:
            for index, system in enumerate(systems):
                await asyncio.to_thread(system.start, None if index == 0 else ["transactions", "router"], timeout_s=120)
            await _roll_during_a_burst(systems, router_lb)
        finally:
            for system in reversed(systems):
                await asyncio.to_thread(system.stop)


def _refusals_logged(systems: list[System]) -> list[str]:
    """The services' log lines about refused requests (which replica refused what, and why), for a failure's
    message: a rare "unsigned request" during a roll was seen once in CI and never reproduced here."""
    lines = []
    for index, system in enumerate(systems):
        for log in sorted(system.log_dir.glob("*.log")) if system.log_dir else []:
            lines += [f"{index}/{log.stem}: {line}" for line in log.read_text(errors="replace").splitlines()
                      if "refused" in line or "UNAUTHENTICATED" in line][:20]  # fmt: skip
    return lines


async def _roll_during_a_burst(systems: list[System], router_lb: Balancer) -> None:
    chaos = Chaos(systems[0], router_url=f"http://127.0.0.1:{router_lb.port}/graphql")  # clients use the LB
    await chaos.fund_buyers()
    burst = Burst(ROLLING_METERS[0])
    errors: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def buyer(index: int) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            for n in itertools.count():
                if stop.is_set():
                    return
                customer, ref = BUYERS[index % len(BUYERS)], f"roll-{uuid.uuid4().hex[:16]}"
                burst.orders.append((customer, ref))
                meter = ROLLING_METERS[(index + n * 3) % len(ROLLING_METERS)]
                variables = {"meter": meter, "denomination": "20000", "ref": ref}
                answer = await chaos.graphql(http, BUY, variables, customer)
                burst.answers[ref] = [answer]
                if _purchase(answer) is None:
                    errors.append(answer)
                await asyncio.sleep(0.8 + 0.1 * (n % 3))

    buyers = [asyncio.create_task(buyer(i)) for i in range(3)]
    started = time.monotonic()
    try:
        await asyncio.sleep(1.0)
        for name in ("transactions", "router"):
            for system in systems:
                await asyncio.to_thread(system.restart, name, timeout_s=120)
                await asyncio.sleep(1.0)
    finally:
        stop.set()
        await asyncio.gather(*buyers)
    rolled_in = time.monotonic() - started
    assert len(burst.orders) > 20, (len(burst.orders), rolled_in)
    assert not errors, (len(errors), len(burst.orders), errors[:5], _refusals_logged(systems))
    await chaos.settled_and_consistent(burst)
