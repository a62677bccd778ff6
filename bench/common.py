"""Shared plumbing for the benchmark sections: machine facts, processes by PID, CPU pinning, wrk.

Everything a section needs to start something, load it and measure it lives here, so each
section module reads as "what is compared with what". Processes are always stopped by their own
PID (never by name); generated files go to ``bench/.work`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from setrum.launcher import free_port
from setrum_common.cpu_policy import CpuPolicy, apply_cpu_policy, cpu_policy_of

__all__ = [
    "BENCH_DIR",
    "REPO_ROOT",
    "WORK",
    "Load",
    "Proc",
    "Report",
    "WrkResult",
    "cpu_count",
    "cpu_model",
    "ensure_wrk",
    "free_port",
    "generating_load",
    "machine_info",
    "dedupe_env",
    "median",
    "pin",
    "quiesce",
    "run_wrk",
    "wait_http",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
WORK = BENCH_DIR / ".work"
# Throughput sections buy far more per simulated customer than a person would: the router's rate
# limits (tested in tests/security, their cost measured by the edgecost section) would refuse them.
NO_RATE_LIMITS = {"ROUTER_RATE_LIMITS__ENABLED": "false"}
# --subgraph-dedupe: the router's in-flight de-duplication of identical subgraph queries
# (ROUTER_TRAFFIC_SHAPING__DEDUPLICATE_SUBGRAPH_QUERIES). "both": peers and throughput also run a
# second router with it off, in the same alternating rounds.
SUBGRAPH_DEDUPE = "on"
# The load's CPU policy (SETRUM_BENCH_LOAD_POLICY, "batch" or "normal"): the load stands for clients on other
# machines, so on the system's own cores it must not preempt the system each time an answer wakes it up.
LOAD_POLICY: CpuPolicy = "normal" if os.environ.get("SETRUM_BENCH_LOAD_POLICY") == "normal" else "batch"


def dedupe_env(on: bool) -> dict[str, str]:
    return {"ROUTER_TRAFFIC_SHAPING__DEDUPLICATE_SUBGRAPH_QUERIES": "true" if on else "false"}


PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
FOREIGN_WAIT_S = float(os.environ.get("BENCH_FOREIGN_WAIT_S", "30"))


@contextmanager
def generating_load() -> Iterator[None]:
    """The calling thread, and the processes it starts meanwhile (the C generator), run under
    :data:`LOAD_POLICY` (see :mod:`setrum_common.cpu_policy`); then under its policy before. Enter it
    after the system is up: what starts inside inherits the policy."""
    before = cpu_policy_of(0) or "normal"
    apply_cpu_policy(LOAD_POLICY)
    try:
        yield
    finally:
        apply_cpu_policy(before)


def cpu_count() -> int:
    return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    node = shutil.which("node")
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else None
    return {
        "cores": cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node_version,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- processes ---------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    except OSError:
        return []
    return [int(x) for x in out.split()]


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn/cluster workers)."""
    out = [pid]
    for child in _children(pid):
        out += tree(child)
    return out


def cpu_ticks(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def rss_mb(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def pin(pid: int, cpus: str | None) -> None:
    """Move a running process (all its threads and children) to ``cpus`` (e.g. "1", "0-1")."""
    if not cpus or not shutil.which("taskset"):
        return
    for p in tree(pid):
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(p)], capture_output=True)


def _system_busy_ticks() -> int:
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return user + nice + system + irq + softirq + steal


@dataclass
class Proc:
    """A child process we started; stopped by its own PID (and its process group, which is its own)."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO_ROOT
    cpus: str | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "logs").mkdir(exist_ok=True)
        log = open(WORK / "logs" / f"{self.name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        argv = (["taskset", "-c", self.cpus] if self.cpus and shutil.which("taskset") else []) + self.argv
        self.popen = subprocess.Popen(  # our own commands
            argv,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def pids(self) -> list[int]:
        return tree(self.pid) if self.alive() else []

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def rss_mb(self) -> float:
        return rss_mb(self.pids())

    def stop(self, timeout_s: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        # Our child leads its own session, so its group holds only what it started.
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join((WORK / "logs" / f"{self.name}.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def wait_http(url: str, proc: Proc | None = None, timeout_s: float = 60.0, *, post_graphql: bool = False) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.log_tail()}")
        try:
            if post_graphql:
                r = httpx.post(url, json={"query": "{ __typename }"}, timeout=2.0)
            else:
                r = httpx.get(url, timeout=2.0)
            if r.status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout_s:.0f}s" + (f":\n{proc.log_tail()}" if proc else ""))


_PID_SOURCES: list[Any] = []


def register_pids(source: Any) -> None:
    """``source()`` -> PIDs of everything the bench started; quiesce waits for all of them."""
    _PID_SOURCES.append(source)


def bench_pids() -> list[int]:
    out: list[int] = []
    for source in _PID_SOURCES:
        for pid in source():
            out += tree(pid)
    return sorted(set(out))


def quiesce(pids: Sequence[int], *, max_wait_s: float = 30.0, idle_pct: float = 5.0) -> float:
    """Wait until ``pids`` use < idle_pct of a core (a saturated gateway drains its backlog after
    the load stops; that would steal CPU from the next run). Returns foreign CPU % seen last."""
    pids = sorted(set(pids) | set(bench_pids()))
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        a = cpu_ticks(pids)
        time.sleep(0.5)
        if (cpu_ticks(pids) - a) * 100 / CLK_TCK / 0.5 < idle_pct:
            break
    # Foreign CPU over one second (other tenants on a shared box): wait up to FOREIGN_WAIT_S for it
    # to drop under 15 % of a core, then go anyway; the value is recorded with every run.
    for _ in range(max(1, int(FOREIGN_WAIT_S))):
        b0, o0 = _system_busy_ticks(), cpu_ticks(pids)
        time.sleep(1.0)
        foreign = ((_system_busy_ticks() - b0) - (cpu_ticks(pids) - o0)) * 100 / CLK_TCK
        if foreign < 15:
            return foreign
    return foreign


# -- wrk -----------------------------------------------------------------------------------


def ensure_wrk() -> str | None:
    """Path of wrk, installing it with apt-get when missing; None (with a message) if impossible."""
    path = shutil.which("wrk")
    if path:
        return path
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk not found; installing it with apt-get ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True)
        path = shutil.which("wrk")
    if not path:
        print("SKIP: wrk is not installed and could not be installed (apt-get install -y wrk)")
    return path


@dataclass
class Load:
    """Closed-loop wrk settings, printed with every section."""

    duration_s: int = 15
    warmup_s: int = 3
    rounds: int = 3
    threads: int = 1
    load_cpus: str = "0"
    gateway_cpus: str = "1"

    def describe(self) -> str:
        return (
            f"wrk -t{self.threads}, {self.warmup_s}s warm-up + {self.duration_s}s measured per run, "
            f"{self.rounds} alternating round(s); load generator + stand-ins on CPU {self.load_cpus}, "
            f"gateway under test alone on CPU {self.gateway_cpus}"
        )


@dataclass
class WrkResult:
    requests: int
    rps: float
    lat_ms: dict[str, float]
    errors: dict[str, Any]
    gw_cpu_pct: float | None = None
    gw_rss_mb: float | None = None
    foreign_cpu_pct: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(v for v in self.errors.values() if isinstance(v, int))

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rps": self.rps,
            "lat_ms": self.lat_ms,
            "errors": self.errors,
            "gw_cpu_pct": self.gw_cpu_pct,
            "gw_rss_mb": self.gw_rss_mb,
            "foreign_cpu_pct": self.foreign_cpu_pct,
            **self.extra,
        }


def summary(runs: Sequence[WrkResult], **extra: Any) -> dict[str, Any]:
    """The medians of repeated runs of one target, as every closed-loop benchmark reports them: req/s, p50
    and p99 latency, the errors summed, each run's req/s; ``extra`` (the benchmark's own figures) before the
    runs themselves."""
    return {
        "rps": median([r.rps for r in runs]),
        "p50_ms": median([r.lat_ms["p50"] for r in runs]),
        "p99_ms": median([r.lat_ms["p99"] for r in runs]),
        "errors": sum(r.error_count for r in runs),
        "rps_runs": [r.rps for r in runs],
        **extra,
        "runs": [r.as_dict() for r in runs],
    }


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children (wrk runs as one)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    url: str,
    *,
    script: Path,
    conns: int,
    duration_s: float,
    load: Load,
    env: Mapping[str, str] | None = None,
    watch: Sequence[int] = (),
    warmup_s: float | None = None,
    timeout_s: int = 10,
    before_run: Callable[[], object] | None = None,
    warmup_env: Mapping[str, str] | None = None,
) -> WrkResult:
    """One closed-loop run (after an unmeasured warm-up); CPU% and RSS of ``watch`` PIDs recorded.
    ``before_run()`` is called right before the measured part (after warm-up and quiesce).
    ``warmup_env`` overrides ``env`` for the warm-up only (a script whose requests must not repeat
    the warm-up's, such as purchases with fresh references, gets its own run id there)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk missing")
    full_env = {**os.environ, **(env or {})}
    pinning = ["taskset", "-c", load.load_cpus] if load.load_cpus and shutil.which("taskset") else []
    threads = max(1, min(load.threads, conns))
    base = [*pinning, wrk, f"-t{threads}", f"-c{conns}", "--timeout", f"{timeout_s}s", "-s", str(script), url]
    warm = load.warmup_s if warmup_s is None else warmup_s
    if warm > 0:
        subprocess.run([*base, "-d", f"{warm}s"], env={**full_env, **(warmup_env or {})}, capture_output=True)
    foreign = quiesce(watch, max_wait_s=60)
    if before_run is not None:
        before_run()
    t0, s0, b0, w0 = cpu_ticks(watch), time.monotonic(), _system_busy_ticks(), _children_cpu_s()
    proc = subprocess.run([*base, "-d", f"{duration_s}s"], env=full_env, capture_output=True, text=True)
    elapsed = time.monotonic() - s0
    t1, b1, w1 = cpu_ticks(watch), _system_busy_ticks(), _children_cpu_s()
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no RESULT line (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(line[len("RESULT ") :])
    result = WrkResult(
        requests=data["requests"],
        rps=data["rps"],
        lat_ms=data["lat_ms"],
        errors=data["errors"],
        gw_cpu_pct=round((t1 - t0) * 100 / CLK_TCK / elapsed, 1) if watch else None,
        gw_rss_mb=rss_mb(watch) if watch else None,
        foreign_cpu_pct=round(foreign, 1),
    )
    result.extra = {k: v for k, v in data.items() if k not in {"requests", "rps", "lat_ms", "errors", "secs"}}
    # Everything the box ran during the measured run (watched processes, wrk, subgraphs, other tenants),
    # and wrk's own share.
    result.extra["system_cpu_pct"] = round((b1 - b0) * 100 / CLK_TCK / elapsed, 1)
    result.extra["wrk_cpu_pct"] = round((w1 - w0) * 100 / elapsed, 1)
    samples = [ln[len("ERRBODY ") :] for ln in proc.stderr.splitlines() if ln.startswith("ERRBODY ")]
    if samples:
        result.extra["error_samples"] = samples
    return result


# -- reporting -----------------------------------------------------------------------------


class Report:
    """Collects section results (printed as they come) into one JSON document."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {"machine": machine_info(), "sections": {}}
        self.failures: list[str] = []

    def section(self, name: str, payload: dict[str, Any]) -> None:
        self.data["sections"][name] = payload

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"  TARGET MISSED: {message}", flush=True)

    def save(self) -> Path:
        WORK.mkdir(parents=True, exist_ok=True)
        path = WORK / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
        self.data["failures"] = self.failures
        path.write_text(json.dumps(self.data, indent=2, default=str))
        (WORK / "results-latest.json").write_text(path.read_text())
        return path


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in cells
    ]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)
