"""What the sections run against, started lazily and once per bench run, stopped at the end.

* ``system()``  — the real Setrum deployment (``setrum.launcher.System``: biller, three subgraphs
  on seeded SQLite, router), plus a signed-in demo customer's bearer token.
* ``standins()`` — :mod:`bench.standin` in front of those real subgraphs, and a copy of our
  supergraph whose subgraph URLs point at the stand-ins (the SAME file every gateway gets).
* ``router(name, supergraph)`` — our router as its own process (``python -m router serve``).
* ``node_ready()`` / ``apollo(...)`` / ``hive(...)`` — the Node peers, installed from the npm
  registry into ``bench/.work/node`` (files copied from the shared peer harness).
* ``public_subgraphs()`` — the public benchmark's four subgraphs (Node, memoised) and their supergraph.
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

from .common import PYTHON, REPO_ROOT, WORK, Proc, free_port, pin, register_pids, wait_http

__all__ = ["Stack", "DASHBOARD_QUERY", "SIGN_IN", "PEERS_SRC"]

PEERS_SRC = Path("/work/shared/peers")
NODE_DIR = WORK / "node"
NODE_PACKAGES = [
    "@apollo/gateway@^2.14.4", "@apollo/server@^5.5.1", "@apollo/subgraph@^2.14.4", "graphql@^16.15.0",
    "@graphql-hive/gateway@^2.15.1", "@theguild/federation-composition@^0.27.0",
]

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
                    cwd=REPO_ROOT, check=True, capture_output=True,
                )
                self._supergraph = out
        return self._supergraph

    # -- the real system -----------------------------------------------------------------

    def system(self) -> Any:
        if self._system is None:
            from setrum.launcher import System, SystemPorts  # noqa: PLC0415

            data = WORK / "system-sqlite"
            if data.exists():
                shutil.rmtree(data)
            ports = SystemPorts(*(free_port() for _ in range(5)))
            system = System(data, ports=ports, log_dir=data / "logs", router_supergraph=self.supergraph(),
                            extra_env={"ROUTER_LOG_LEVEL": "WARNING"})
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
            proc = self.start(Proc("standins", argv, cpus=cpus))
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health", proc)
            sdl = rewrite_urls(self.supergraph().read_text(), {n: f"{base}/{n}" for n in ("users", "master", "transactions")})
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

    def router(self, name: str, supergraph: Path, cpus: str | None, env: dict[str, str] | None = None,
               ref: str | None = None) -> tuple[Proc, str]:
        """Our router as a process; ``ref`` runs the ``router/`` package of that git commit instead
        (extracted with ``git archive`` into bench/.work, the rest of the code from the work tree)."""
        port = free_port()
        cwd = REPO_ROOT
        extra = dict(env or {})
        if ref:
            cwd = WORK / f"router-at-{ref}"
            if not (cwd / "router").is_dir():
                cwd.mkdir(parents=True, exist_ok=True)
                archive = subprocess.run(["git", "archive", ref, "router"], cwd=REPO_ROOT, check=True,
                                         capture_output=True).stdout
                subprocess.run(["tar", "-x", "-C", str(cwd)], input=archive, check=True)
            extra["PYTHONPATH"] = f"{cwd}:{REPO_ROOT}"
        proc = self.start(Proc(
            name, [PYTHON, "-m", "router", "serve", "--supergraph", str(supergraph), "--port", str(port)],
            env={"ROUTER_LOG_LEVEL": "WARNING", **extra}, cpus=cpus, cwd=cwd,
        ))
        url = f"http://127.0.0.1:{port}/graphql"
        wait_http(f"http://127.0.0.1:{port}/health", proc)
        return proc, url

    def node_ready(self) -> bool:
        """Install the peers into bench/.work/node once (npm registry); False when Node is absent."""
        if not shutil.which("node") or not shutil.which("npm"):
            return False
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        for f in ("apollo.mjs", "check.mjs", "compose.mjs"):
            if (PEERS_SRC / f).is_file():
                shutil.copy(PEERS_SRC / f, NODE_DIR / f)
        if (PEERS_SRC / "subgraphs").is_dir() and not (NODE_DIR / "subgraphs").is_dir():
            shutil.copytree(PEERS_SRC / "subgraphs", NODE_DIR / "subgraphs")
            for sdl in (NODE_DIR / "subgraphs").iterdir():
                sdl.chmod(0o644)
        if (PEERS_SRC / "queries").is_dir() and not (NODE_DIR / "queries").is_dir():
            shutil.copytree(PEERS_SRC / "queries", NODE_DIR / "queries")
        have = all((NODE_DIR / "node_modules" / p.rsplit("@", 1)[0]).is_dir() for p in NODE_PACKAGES)
        if not have:
            print("  installing Apollo Gateway and Hive Gateway with npm into bench/.work/node (a few minutes) ...",
                  flush=True)
            if not (NODE_DIR / "package.json").is_file():
                (NODE_DIR / "package.json").write_text('{"name": "setrum-bench-peers", "private": true, "type": "module"}\n')
            r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", *NODE_PACKAGES], cwd=NODE_DIR,
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"  npm install failed:\n{r.stderr[-2000:]}")
                return False
        return True

    def apollo(self, supergraph: Path, cpus: str | None, name: str = "apollo") -> tuple[Proc, str]:
        port = free_port()
        proc = self.start(Proc(name, ["node", "apollo.mjs", str(supergraph), str(port)], cwd=NODE_DIR,
                               env={"NODE_ENV": "production", "FORK": "1"}, cpus=cpus))
        url = f"http://127.0.0.1:{port}/graphql"
        wait_http(url, proc, post_graphql=True)
        return proc, url

    def hive(self, supergraph: Path, cpus: str | None, name: str = "hive") -> tuple[Proc, str]:
        port = free_port()
        cwd = NODE_DIR / "hive-cwd"  # empty: no stray gateway.config.* is picked up
        cwd.mkdir(exist_ok=True)
        binary = NODE_DIR / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"
        proc = self.start(Proc(
            name, ["node", str(binary), "supergraph", str(supergraph), "--host", "127.0.0.1", "--port", str(port),
                   "--fork", "1"],
            cwd=cwd, env={"NODE_ENV": "production"}, cpus=cpus,
        ))
        url = f"http://127.0.0.1:{port}/graphql"
        wait_http(url, proc, timeout_s=90, post_graphql=True)
        return proc, url

    def public_subgraphs(self, cpus: str = "0") -> tuple[str, Path]:
        """The public benchmark's subgraphs (memoised Node server) and their composed supergraph."""
        if self.public_supergraph is None:
            port = free_port()
            proc = self.start(Proc("public-subgraphs", ["node", "subgraphs/server.mjs", str(port)], cwd=NODE_DIR,
                                   env={"SUBGRAPH_MEMO": "1"}, cpus=cpus))
            wait_http(f"http://127.0.0.1:{port}/health", proc)
            out = WORK / "supergraph-public.graphql"
            subprocess.run(["node", "compose.mjs", f"http://127.0.0.1:{port}", str(out)], cwd=NODE_DIR, check=True,
                           capture_output=True)
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
    print(f"  WARNING: demo sign-in failed through the router ({body['errors'][0].get('message')}); "
          "using a token minted with the development JWT secret instead", flush=True)
    from setrum_common.auth import Role, issue_customer_token  # noqa: PLC0415
    from setrum_common.demo_data import CUSTOMERS  # noqa: PLC0415
    from setrum_common.settings import DEV_JWT_SECRET  # noqa: PLC0415

    siti = next(c for c in CUSTOMERS if c.email == "siti@example.id")
    return issue_customer_token(os.environ.get("SETRUM_JWT_SECRET", DEV_JWT_SECRET), siti.id, Role.CUSTOMER)[0]
