"""What the sections run against, started lazily and once per bench run, stopped at the end.

* ``system()``  — the real Setrum deployment (``setrum.launcher.System``: biller, three subgraphs
  on seeded SQLite, router), plus a signed-in demo customer's bearer token.
* ``standins()`` — :mod:`bench.standin` in front of those real subgraphs, and a copy of our
  supergraph whose subgraph URLs point at the stand-ins (the SAME file every gateway gets).
* ``router(name, supergraph)`` — our router as its own process (``python -m router serve``).
* ``node_ready()`` / ``apollo(...)`` / ``hive(...)`` — the Node peers (Hive Gateway also with its Rust
  query planner, ``hive(..., rust=True)``), installed with ``npm ci`` from
  ``bench/peers/package.json`` and its lock file into ``bench/peers/node_modules``.
* ``public_subgraphs()`` — the public benchmark's four subgraphs (``bench/peers/server.mjs``, memoised)
  and their supergraph (``bench/peers/supergraph.graphql`` pointed at that server).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from . import common
from .common import BENCH_DIR, NO_RATE_LIMITS, PYTHON, REPO_ROOT, WORK, Proc, free_port, pin, register_pids, wait_http

__all__ = ["Stack", "DASHBOARD_QUERY", "SIGN_IN", "PEERS_DIR", "PUBLIC_QUERIES"]

# The public benchmark workload and the Node peers (bench/README.md §The public benchmark workload).
PEERS_DIR = BENCH_DIR / "peers"
PUBLIC_QUERIES = {q: PEERS_DIR / "queries" / f"{q}.json" for q in ("two", "small", "heavy")}
PUBLIC_SUBGRAPHS = ("accounts", "inventory", "products", "reviews")
_NODE_MODULES = PEERS_DIR / "node_modules"
_HIVE_BIN = _NODE_MODULES / "@graphql-hive" / "gateway" / "dist" / "bin.js"
_HIVE_RUST = _NODE_MODULES / "@graphql-hive" / "router-runtime" / "dist" / "index.js"


def _hive_config(*, rust: bool, dedupe: bool) -> str:
    """Hive Gateway's gateway.config.mjs: the Rust planner's graph handler, and merging off when asked
    (``deduplicateInflightRequests`` of its HTTP transport, on by default)."""
    lines, options = [], []
    if rust:
        lines.append(f"import {{ unifiedGraphHandler }} from {json.dumps(_HIVE_RUST.as_uri())};")
        options.append("unifiedGraphHandler")
    if not dedupe:
        options.append("transportEntries: { '*': { options: { deduplicateInflightRequests: false } } }")
    lines.append(f"export const gatewayConfig = {{ {', '.join(options)} }};")
    return "\n".join(lines) + "\n"


SIGN_IN = 'mutation SignIn { signIn(email: "siti@example.id", password: "setrum-demo-2026") { token } }'

# customer -> saved meters -> meter (master) -> tariff/region (master) -> last purchases + usage (transactions)
DASHBOARD_QUERY = """query Dashboard {
  me {
    id name email
    wallet { balance currency }
    meters {
      alias
      meter {
        number holderName powerVa status
        tariff { code description rate }
        region { name }
        monthlyUsage { kwh remainingKwh }
        purchases(first: 5) { nodes { id status kwh totalPaid token createdAt } }
      }
    }
  }
}"""

_GRAPH_URL = re.compile(r'(@join__graph\(name:\s*"([^"]+)",\s*url:\s*")([^"]*)(")')


def rewrite_urls(sdl: str, urls: dict[str, str]) -> str:
    """The supergraph with each subgraph's routing URL replaced (by subgraph name, case-insensitive)."""
    lowered = {k.lower(): v for k, v in urls.items()}
    return _GRAPH_URL.sub(lambda m: m.group(1) + lowered.get(m.group(2).lower(), m.group(3)) + m.group(4), sdl)


def write_query(name: str, query: str, variables: dict[str, Any] | None = None) -> Path:
    path = WORK / "queries" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    path.write_text(json.dumps(body))
    return path


class Stack:
    def __init__(self) -> None:
        self.procs: dict[str, Proc] = {}
        self.extra_pids: list[int] = []
        self._system: Any = None
        self.token: str | None = None
        self._supergraph: Path | None = None
        self.standin_supergraph: Path | None = None
        self.standin_url: str | None = None
        self.public_supergraph: Path | None = None
        register_pids(self.all_pids)

    def all_pids(self) -> list[int]:
        pids = [p.pid for p in self.procs.values() if p.alive()]
        if self._system is not None:
            pids += [p.pid for p in self._system.processes.values() if p.poll() is None]
        pids += self.extra_pids
        return pids

    # -- our supergraph ------------------------------------------------------------------

    def supergraph(self) -> Path:
        """schema/supergraph.graphql when present, else composed from schema/*.graphql by our composer."""
        if self._supergraph is None:
            checked_in = REPO_ROOT / "schema" / "supergraph.graphql"
            if checked_in.is_file():
                self._supergraph = checked_in
            else:
                out = WORK / "supergraph.graphql"
                out.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    [PYTHON, "-m", "router", "compose", "--config", "schema/supergraph.yaml", "--output", str(out)],
                    cwd=REPO_ROOT,
                    check=True,
                    capture_output=True,
                )
                self._supergraph = out
        return self._supergraph

    # -- the real system -----------------------------------------------------------------

    def system(self) -> Any:
        if self._system is None:
            from setrum.launcher import System, SystemPorts

            data = WORK / "system-sqlite"
            if data.exists():
                shutil.rmtree(data)
            ports = SystemPorts.free()
            system = System(
                data,
                ports=ports,
                log_dir=data / "logs",
                router_supergraph=self.supergraph(),
                extra_env={
                    "ROUTER_LOG_LEVEL": "WARNING",
                    **NO_RATE_LIMITS,
                    **common.dedupe_env(common.SUBGRAPH_DEDUPE != "off"),
                },
            )
            print("  starting the real system (biller, users, master, transactions on SQLite, router) ...", flush=True)
            t0 = time.monotonic()
            system.start(timeout_s=120)
            self._system = system
            print(f"  ... up in {time.monotonic() - t0:.0f}s", flush=True)
            self.token = sign_in(system.router_url)
        return self._system

    def subgraph_url(self, name: str) -> str:
        system = self.system()
        return f"http://127.0.0.1:{getattr(system.ports, name)}/graphql"

    def system_pid(self, name: str) -> int:
        return self.system().processes[name].pid

    def pin_system(self, layout: dict[str, str]) -> None:
        for name, cpus in layout.items():
            pin(self.system_pid(name), cpus)

    # -- stand-ins -----------------------------------------------------------------------

    def standins(self, cpus: str = "0") -> tuple[str, Path]:
        if self.standin_supergraph is None:
            self.system()
            port = free_port()
            argv = [PYTHON, "-m", "bench.standin", "--port", str(port), "--auth", f"Bearer {self.token}"]
            for name in ("users", "master", "transactions"):
                argv += ["--upstream", f"{name}={self.subgraph_url(name)}"]
            router_env = self.system().spec("router").env  # sign as the system's router (its subgraphs need it)
            signing = {k: router_env[k] for k in ("ROUTER_SIGNING__KEY", "ROUTER_SIGNING__KEY_ID") if k in router_env}
            proc = self.start(Proc("standins", argv, env=signing, cpus=cpus))
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health", proc)
            sdl = rewrite_urls(
                self.supergraph().read_text(), {n: f"{base}/{n}" for n in ("users", "master", "transactions")}
            )
            path = WORK / "supergraph-standin.graphql"
            path.write_text(sdl)
            self.standin_url, self.standin_supergraph = base, path
        assert self.standin_url is not None
        return self.standin_url, self.standin_supergraph

    def standin_stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.standin_url}/stats").json()

    # -- gateways ------------------------------------------------------------------------

    def start(self, proc: Proc) -> Proc:
        old = self.procs.pop(proc.name, None)
        if old is not None:
            old.stop()
        self.procs[proc.name] = proc.start()
        return proc

    def router(
        self, name: str, supergraph: Path, cpus: str | None, env: dict[str, str] | None = None, ref: str | None = None
    ) -> tuple[Proc, str]:
        """Our router as a process; ``ref`` runs the ``router/`` package of that git commit instead
        (extracted with ``git archive`` into bench/.work, the rest of the code from the work tree)."""
        port = free_port()
        cwd = REPO_ROOT
        extra = dict(env or {})
        if supergraph == self.standin_supergraph and not ref:
            # The stand-ins serve our schema, whose @authenticated fields need the customer's verified claims:
            # verify the bench customer's token as the system's router does. (A router of an older ref has no
            # such settings and refuses unknown ROUTER_* variables; it does not enforce those directives either.)
            router_env = self.system().spec("router").env
            extra = {**{k: v for k, v in router_env.items() if k.startswith("ROUTER_AUTHENTICATION__")}, **extra}
        if ref:
            cwd = WORK / f"router-at-{ref}"
            if not (cwd / "router").is_dir():
                cwd.mkdir(parents=True, exist_ok=True)
                archive = subprocess.run(
                    ["git", "archive", ref, "router"], cwd=REPO_ROOT, check=True, capture_output=True
                ).stdout
                subprocess.run(["tar", "-x", "-C", str(cwd)], input=archive, check=True)
            extra["PYTHONPATH"] = f"{cwd}:{REPO_ROOT}"
        proc = self.start(
            Proc(
                name,
                [PYTHON, "-m", "router", "serve", "--supergraph", str(supergraph), "--port", str(port)],
                env={"ROUTER_LOG_LEVEL": "WARNING", **extra},
                cpus=cpus,
                cwd=cwd,
            )
        )
        url = f"http://127.0.0.1:{port}/graphql"
        wait_http(f"http://127.0.0.1:{port}/health", proc)
        return proc, url

    def node_ready(self) -> bool:
        """``npm ci`` in bench/peers once (again when the lock file changed); False without Node or on failure."""
        if not shutil.which("node") or not shutil.which("npm"):
            return False
        lock = PEERS_DIR / "package-lock.json"
        installed = _NODE_MODULES / ".package-lock.json"  # npm writes it after a complete install
        if (
            installed.is_file()
            and installed.stat().st_mtime >= lock.stat().st_mtime
            and _HIVE_BIN.is_file()
            and _HIVE_RUST.is_file()
        ):
            return True
        print("  installing the Node peers with npm ci into bench/peers/node_modules (a few minutes) ...", flush=True)
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEERS_DIR, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"  npm ci failed:\n{r.stderr[-2000:]}")
            return False
        return True

    def apollo(self, supergraph: Path, cpus: str | None, name: str = "apollo") -> tuple[Proc, str]:
        port = free_port()
        proc = self.start(
            Proc(
                name,
                ["node", "apollo.mjs", str(supergraph), str(port)],
                cwd=PEERS_DIR,
                env={"NODE_ENV": "production"},
                cpus=cpus,
            )
        )
        url = f"http://127.0.0.1:{port}/graphql"
        wait_http(url, proc, post_graphql=True)
        return proc, url

    def hive(
        self, supergraph: Path, cpus: str | None, name: str = "hive", *, rust: bool = False, dedupe: bool = True
    ) -> tuple[Proc, str]:
        """Hive Gateway on ``supergraph``; ``rust``: with the Rust query planner (``@graphql-hive/router-runtime``);
        ``dedupe=False``: its in-flight merging of identical subgraph requests (on by default) switched off."""
        port = free_port()
        # A directory of its own per variant: the gateway reads gateway.config.* from its working directory.
        cwd = WORK / f"hive-cwd-{'rust' if rust else 'js'}-{'dedupe' if dedupe else 'nodedupe'}"
        cwd.mkdir(parents=True, exist_ok=True)
        (cwd / "gateway.config.mjs").write_text(_hive_config(rust=rust, dedupe=dedupe))
        proc = self.start(
            Proc(
                name,
                [
                    "node",
                    str(_HIVE_BIN),
                    "supergraph",
                    str(supergraph),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--fork",
                    "1",
                ],
                cwd=cwd,
                env={"NODE_ENV": "production"},
                cpus=cpus,
            )
        )
        url = f"http://127.0.0.1:{port}/graphql"
        wait_http(url, proc, timeout_s=90, post_graphql=True)
        return proc, url

    def public_subgraphs(self, cpus: str = "0") -> tuple[str, Path]:
        """The public benchmark's subgraphs (memoised Node server) and the checked-in supergraph pointed at them."""
        if self.public_supergraph is None:
            port = free_port()
            proc = self.start(
                Proc(
                    "public-subgraphs",
                    ["node", "server.mjs", str(port)],
                    cwd=PEERS_DIR,
                    env={"SUBGRAPH_MEMO": "1"},
                    cpus=cpus,
                )
            )
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health", proc)
            sdl = rewrite_urls(
                (PEERS_DIR / "supergraph.graphql").read_text(), {n: f"{base}/{n}/graphql" for n in PUBLIC_SUBGRAPHS}
            )
            out = WORK / "supergraph-public.graphql"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(sdl)
            self.public_supergraph = out
            self.public_port = port
        return f"http://127.0.0.1:{self.public_port}", self.public_supergraph

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.stop()

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        if self._system is not None:
            self._system.stop()
            self._system = None


def sign_in(router_url: str) -> str:
    """The demo customer's bearer token via ``signIn`` through the router.

    If sign-in itself is broken (the users subgraph is someone else's work in progress), the token
    is minted with the development JWT secret instead, with a loud message, so the other figures
    can still be taken."""
    r = httpx.post(router_url, json={"query": SIGN_IN}, timeout=30)
    body = r.json()
    if "errors" not in body:
        return body["data"]["signIn"]["token"]
    print(
        f"  WARNING: demo sign-in failed through the router ({body['errors'][0].get('message')}); "
        "using a token minted with the development JWT secret instead",
        flush=True,
    )
    from setrum_common.auth import Role, issue_customer_token
    from setrum_common.demo_data import CUSTOMERS
    from setrum_common.settings import DEV_JWT_SECRET

    siti = next(c for c in CUSTOMERS if c.email == "siti@example.id")
    return issue_customer_token(os.environ.get("SETRUM_JWT_SECRET", DEV_JWT_SECRET), siti.id, Role.CUSTOMER)[0]
