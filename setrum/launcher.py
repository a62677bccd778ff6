"""Run the whole system on one machine: biller, payments, three subgraphs and the router, as processes.

Used by ``setrum dev`` and by the end-to-end tests, so what the tests start is exactly what a
developer runs. Each service is ``python -m <module>`` with its configuration in environment
variables; the launcher waits for every ``/health`` before it starts the next tier and stops
them all (SIGTERM, then SIGKILL) on exit.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx

from setrum_common.auth import CUSTOMER_TOKEN_AUDIENCE, CUSTOMER_TOKEN_ISSUER
from setrum_common.settings import DEV_JWT_SECRET
from setrum_common.trust import RouterSigner, generate_private_key, private_key_text, public_key_text
from setrum_common.trust.service_keys import (
    SERVICE_NAMES,
    ServiceKeyring,
    generate_deployment_keys,
    load_keyring,
    private_key_variable,
)

__all__ = ["ServiceSpec", "System", "SystemPorts", "free_port", "default_ports"]

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class SystemPorts:
    router: int = 4000
    users: int = 4001
    master: int = 4002
    transactions: int = 4003
    biller: int = 4010
    payments: int = 4020

    @classmethod
    def free(cls) -> SystemPorts:
        """A free localhost port for every process (tests and benchmarks run beside a developer's system)."""
        return cls(*(free_port() for _ in range(len(cls.__dataclass_fields__))))


def default_ports() -> SystemPorts:
    return SystemPorts()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceSpec:
    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class System:
    """The six processes of a Setrum deployment on localhost."""

    def __init__(
        self,
        data_dir: Path,
        *,
        ports: SystemPorts | None = None,
        database_urls: Mapping[str, str] | None = None,
        seed: bool = True,
        extra_env: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
        router_supergraph: Path | None = None,
        web_app_dir: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.ports = ports or default_ports()
        self.seed = seed
        self.log_dir = Path(log_dir) if log_dir else None
        self.database_urls = dict(database_urls or {})
        self.extra_env = dict(extra_env or {})
        self.router_supergraph = router_supergraph or REPO_ROOT / "schema" / "supergraph.graphql"
        self.web_app_dir = Path(web_app_dir).resolve() if web_app_dir else None  # built app the router serves at /app/
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        # A fresh router signing key per system: the router holds the private key, the subgraphs
        # its public key, so they answer GraphQL only from this router (setrum_common/trust/).
        self._router_key = generate_private_key()
        self.router_key_id = f"launcher-{secrets.token_hex(4)}"
        self.service_keys = self._deployment_keys()
        self.specs = self._specs()
        for spec in self.specs:
            spec.env.update(self._identity(spec.name))

    def _db(self, name: str) -> str:
        return self.database_urls.get(name) or f"sqlite+aiosqlite:///{self.data_dir / (name + '.db')}"

    @property
    def _production(self) -> bool:
        return {**os.environ, **self.extra_env}.get("SETRUM_ENV") == "production"

    def _deployment_keys(self) -> dict[str, str]:
        """Development: none (each service derives its development key from its name). Production: the
        deployment's ``SETRUM_<SERVICE>_SERVICE_KEY`` and ``SETRUM_SERVICE_PUBLIC_KEYS`` when given, else
        keys made for this run (see ``python -m setrum keys``)."""
        if not self._production:
            return {}
        given = {**os.environ, **self.extra_env}
        if given.get("SETRUM_SERVICE_PUBLIC_KEYS"):
            names = [private_key_variable(n) for n in SERVICE_NAMES]
            return {k: given[k] for k in [*names, "SETRUM_SERVICE_PUBLIC_KEYS"] if k in given}
        return generate_deployment_keys()

    def _identity(self, service: str) -> dict[str, str]:
        """The service's own key and the public keys of its callers, as its settings read them."""
        own = self.service_keys.get(private_key_variable(service))
        if own is None:
            return {}
        return {
            "SETRUM_SERVICE_KEY": own,
            "SETRUM_SERVICE_PUBLIC_KEYS": self.service_keys["SETRUM_SERVICE_PUBLIC_KEYS"],
        }

    def keyring(self, service: str) -> ServiceKeyring:
        """``service``'s keyring as this system runs it (tests sign as a service with it)."""
        public = self.service_keys.get("SETRUM_SERVICE_PUBLIC_KEYS")
        return load_keyring(service, self.service_keys.get(private_key_variable(service)), public)

    def _specs(self) -> list[ServiceSpec]:
        p = self.ports
        seed = "true" if self.seed else "false"
        py = sys.executable
        return [
            ServiceSpec(
                "biller",
                [py, "-m", "biller"],
                p.biller,
                {
                    "BILLER_PORT": str(p.biller),
                    "BILLER_DATABASE_URL": self._db("biller"),
                    "BILLER_SEED_DEMO_DATA": seed,
                    # Development wires the fault switches (trying failures by hand, the tests); production never.
                    "BILLER_FAULTS_ENABLED": "false" if self._production else "true",
                },
            ),
            ServiceSpec(
                "payments",
                [py, "-m", "payments"],
                p.payments,
                {
                    "PAYMENTS_PORT": str(p.payments),
                    "PAYMENTS_DATABASE_URL": self._db("payments"),
                    "PAYMENTS_NOTIFY_URL": f"http://127.0.0.1:{p.transactions}/internal/payments/notify",
                },
            ),
            ServiceSpec(
                "users",
                [py, "-m", "subgraphs.users"],
                p.users,
                {
                    "USERS_PORT": str(p.users),
                    "USERS_DATABASE_URL": self._db("users"),
                    "USERS_SEED_DEMO_DATA": seed,
                    "SETRUM_ROUTER_PUBLIC_KEYS": self.router_public_keys,
                },
            ),
            ServiceSpec(
                "master",
                [py, "-m", "subgraphs.master"],
                p.master,
                {
                    "MASTER_PORT": str(p.master),
                    "MASTER_DATABASE_URL": self._db("master"),
                    "MASTER_SEED_DEMO_DATA": seed,
                    "SETRUM_ROUTER_PUBLIC_KEYS": self.router_public_keys,
                    "MASTER_TRANSACTIONS_URL": f"http://127.0.0.1:{p.transactions}",
                    "SETRUM_USERS_URL": f"http://127.0.0.1:{p.users}",
                },
            ),
            ServiceSpec(
                "transactions",
                [py, "-m", "subgraphs.transactions"],
                p.transactions,
                {
                    "TRANSACTIONS_PORT": str(p.transactions),
                    "TRANSACTIONS_DATABASE_URL": self._db("transactions"),
                    "TRANSACTIONS_SEED_DEMO_DATA": seed,
                    "SETRUM_ROUTER_PUBLIC_KEYS": self.router_public_keys,
                    "TRANSACTIONS_MASTER_URL": f"http://127.0.0.1:{p.master}/graphql",
                    "TRANSACTIONS_BILLER_URL": f"http://127.0.0.1:{p.biller}",
                    "TRANSACTIONS_PAYMENTS_URL": f"http://127.0.0.1:{p.payments}",
                    "SETRUM_USERS_URL": f"http://127.0.0.1:{p.users}",
                },
            ),
            ServiceSpec(
                "router",
                [py, "-m", "router", "serve", "--supergraph", str(self.router_supergraph)],
                p.router,
                {
                    "ROUTER_PORT": str(p.router),
                    "ROUTER_SUBGRAPHS__URLS__users": f"http://127.0.0.1:{p.users}/graphql",
                    "ROUTER_SUBGRAPHS__URLS__master": f"http://127.0.0.1:{p.master}/graphql",
                    "ROUTER_SUBGRAPHS__URLS__transactions": f"http://127.0.0.1:{p.transactions}/graphql",
                    # Rate-limit counters and APQ documents: a SQLite file shared by the router
                    # processes of this machine, or database_urls["router"] (PostgreSQL) for replicas.
                    "ROUTER_SHARED_STORE__URL": self._db("router"),
                    # One host: the router's wake-ups (a storm's refusals) must not preempt the subgraphs.
                    "ROUTER_CPU_POLICY": self._shared("ROUTER_CPU_POLICY", "batch"),
                    **self._edge_authentication(),
                    **self._router_signing(),
                    **({"ROUTER_WEB_APP_DIR": str(self.web_app_dir)} if self.web_app_dir else {}),
                },
            ),
        ]

    def _shared(self, name: str, default: str) -> str:
        """A shared SETRUM_* value as every process will see it (extra_env wins over ours)."""
        return self.extra_env.get(name) or os.environ.get(name) or default

    @property
    def router_public_keys(self) -> str:
        """The SETRUM_ROUTER_PUBLIC_KEYS value every subgraph gets."""
        return f"{self.router_key_id}={public_key_text(self._router_key)}"

    def router_signer(self) -> RouterSigner:
        """Signs like this system's router (tests that talk to a subgraph directly)."""
        return RouterSigner(self._router_key, self.router_key_id)

    def _router_signing(self) -> dict[str, str]:
        return {
            "ROUTER_SIGNING__KEY": private_key_text(self._router_key),
            "ROUTER_SIGNING__KEY_ID": self.router_key_id,
            # Subgraphs read the signed claims, not the client's token: it goes no further.
            "ROUTER_HEADERS__PROPAGATE": "[]",
        }

    def _edge_authentication(self) -> dict[str, str]:
        """The router verifies customer tokens at the edge, as users issues them: with users' published
        JWKS when users signs with a private key (USERS_TOKEN_SIGNING_KEY[_FILE]), else the HS256 secret."""
        if self._shared("USERS_TOKEN_SIGNING_KEY", "") or self._shared("USERS_TOKEN_SIGNING_KEY_FILE", ""):
            source = {"ROUTER_AUTHENTICATION__JWKS_URL": f"http://127.0.0.1:{self.ports.users}/.well-known/jwks.json"}
        else:
            source = {"ROUTER_AUTHENTICATION__HS256_SECRET": self._shared("SETRUM_JWT_SECRET", DEV_JWT_SECRET)}
        return {
            **source,
            "ROUTER_AUTHENTICATION__ISSUERS": json.dumps([CUSTOMER_TOKEN_ISSUER]),
            "ROUTER_AUTHENTICATION__AUDIENCES": json.dumps([CUSTOMER_TOKEN_AUDIENCE]),
        }

    def spec(self, name: str) -> ServiceSpec:
        return next(s for s in self.specs if s.name == name)

    @property
    def router_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.router}/graphql"

    @property
    def web_app_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ports.router}/app/" if self.web_app_dir else None

    def start(self, names: list[str] | None = None, *, timeout_s: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        wanted = [s for s in self.specs if names is None or s.name in names]
        try:
            # The biller and subgraphs are independent; the router comes last.
            tiers = [[s for s in wanted if s.name != "router"], [s for s in wanted if s.name == "router"]]
            for tier in tiers:
                for spec in tier:
                    self._spawn(spec)
                for spec in tier:
                    self._wait_healthy(spec, timeout_s)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, spec: ServiceSpec) -> None:
        env = {**os.environ, **spec.env, **self.extra_env}
        env.setdefault("PYTHONUNBUFFERED", "1")
        out: int | BinaryIO = subprocess.DEVNULL
        if self.log_dir:
            out = open(self.log_dir / f"{spec.name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[spec.name] = subprocess.Popen(  # our own interpreter and modules
            spec.argv,
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if self.log_dir else None,
            start_new_session=True,
        )

    def _wait_healthy(self, spec: ServiceSpec, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"{spec.base_url}/health"
        while time.monotonic() < deadline:
            proc = self.processes[spec.name]
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{spec.name} exited with code {proc.returncode} during start-up{self._log_hint(spec)}"
                )
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{spec.name} did not become healthy at {url} within {timeout_s:.0f}s{self._log_hint(spec)}")

    def _log_hint(self, spec: ServiceSpec) -> str:
        return f" (see {self.log_dir / (spec.name + '.log')})" if self.log_dir else ""

    def stop(self, names: list[str] | None = None, *, timeout_s: float = 10.0) -> None:
        # Router first, so clients stop reaching subgraphs that are going away.
        for name in reversed([s.name for s in self.specs]):
            if names is not None and name not in names:
                continue
            proc = self.processes.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def restart(self, name: str, *, timeout_s: float = 60.0) -> None:
        """Stop ``name`` (if it still runs) and start it again; the chaos tests restart crashed services."""
        self.stop([name])
        spec = self.spec(name)
        self._spawn(spec)
        self._wait_healthy(spec, timeout_s)

    def __enter__(self) -> System:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
