"""Section edgecost — what the public edge's features cost the router (issue 12: <= 10 % with all on).

Two routers over the same stub subgraph (the edge section's, answering from memory), measured
in alternating rounds in one run: one with every edge feature on, one with every feature off.
Each feature is switched by its settings (:data:`FEATURES`), authorization and router -> subgraph
signing included; a feature whose settings section does not exist in ``RouterSettings`` is listed
as "not built" and left out of both.

The load is an ordinary read carrying a valid customer token (wrk, closed loop). A second figure
shows what a counted operation costs when a rate-limit rule names it: one shared-store upsert
(a SQLite file here; PostgreSQL with ``--postgres-url``) per request.

Beside req/s, each run records the router's CPU time per request (``/proc``): on a box other work
shares, req/s swings with that work far more than the router's own cost per request does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .common import (
    BENCH_DIR,
    CLK_TCK,
    WORK,
    Load,
    Proc,
    Report,
    cpu_ticks,
    median,
    quiesce,
    table,
)
from .edge import _wrk, _wrk_argv, stub_supergraph  # the same wrk driver and stub subgraph as the edge section
from .stack import Stack, write_query

__all__ = ["FEATURES", "edge_routers", "run", "wrk_env"]

COST_TARGET = 0.10
CONNS = 20
QUERY = "query Tariffs { tariffs { code description } }"
SECRET = "bench-edge-cost-secret-0123456789abcdef0123"
SIGNING_KEY = "YmVuY2gtb25seS1yb3V0ZXItc2lnbmluZy1zZWVkISE="  # base64 of a 32-byte bench-only seed


@dataclass(frozen=True)
class Feature:
    name: str
    section: str  # the RouterSettings field that must exist for the feature to be measured
    on: dict[str, str]
    off: dict[str, str] = field(default_factory=dict)


FEATURES: tuple[Feature, ...] = (
    Feature("CSRF prevention", "csrf", {"ROUTER_CSRF__ENABLED": "true"}, {"ROUTER_CSRF__ENABLED": "false"}),
    Feature(
        "large-body gate",
        "limits",
        {"ROUTER_LIMITS__LARGE_BODY_BYTES": "32768"},
        {"ROUTER_LIMITS__LARGE_BODY_BYTES": "2000000"},
    ),
    Feature("JWT verification (HS256)", "authentication", {"ROUTER_AUTHENTICATION__HS256_SECRET": SECRET}),
    Feature(
        "persisted queries (APQ)",
        "persisted_queries",
        {"ROUTER_PERSISTED_QUERIES__APQ": "true"},
        {"ROUTER_PERSISTED_QUERIES__APQ": "false"},
    ),
    Feature(
        "rate limits (shared store)",
        "rate_limits",
        {"ROUTER_RATE_LIMITS__ENABLED": "true"},
        {"ROUTER_RATE_LIMITS__ENABLED": "false"},
    ),
    # The adaptive overload limiter is the router's default protection (issue 10), not one of issue 12's
    # edge features: on in both routers. (Switched off in "all off" alone it cost about 15 % here under a
    # closed loop of 20 connections on a busy box: its gradient shrinks the limit and requests queue.)
    Feature("overload limiter (default protection)", "overload", {}, {}),
    Feature(
        "authorization directives",
        "authorization",
        {"ROUTER_AUTHORIZATION__ENABLED": "true"},
        {"ROUTER_AUTHORIZATION__ENABLED": "false"},
    ),
    # The router's Ed25519 signature on every subgraph request (the stub subgraph does not verify it, so
    # the subgraphs' verification is not in this figure). Off: no key configured.
    Feature(
        "router -> subgraph signing",
        "signing",
        {"ROUTER_SIGNING__KEY": SIGNING_KEY, "ROUTER_SIGNING__KEY_ID": "bench"},
        {},
    ),
)


def _built() -> tuple[list[Feature], list[Feature]]:
    from router.settings import RouterSettings

    fields = RouterSettings.model_fields
    built = [f for f in FEATURES if f.section in fields]
    return built, [f for f in FEATURES if f.section not in fields]


def _token() -> str:
    from setrum_common.auth import Role, issue_customer_token

    token, _ = issue_customer_token(SECRET, "bench-customer", Role.CUSTOMER, ttl=timedelta(hours=2))
    return token


def edge_routers(
    stack: Stack, load: Load, postgres_url: str | None = None
) -> tuple[Proc, dict[str, tuple[Proc, str]], str]:
    """The stub subgraph and the three routers over it: (stub, {name: (proc, url)}, store URL).
    Shared with ``python -m bench.profile_router edgecost`` so the profile is of these very routers."""
    built, _ = _built()
    stub, supergraph = stub_supergraph(stack, load, "edgecost")
    store = postgres_url or f"sqlite+aiosqlite:///{WORK / 'edgecost-store.db'}"
    env_on: dict[str, str] = {"ROUTER_SHARED_STORE__URL": store}
    env_off: dict[str, str] = {}
    for feature in built:
        env_on.update(feature.on)
        env_off.update(feature.off)
    counted_rule = [{"name": "bench", "fields": ["tariffs"], "per": "ip", "limit": 1_000_000_000, "window_s": 3600}]
    routers = {
        "all off": stack.router("router-edge-off", supergraph, cpus=load.gateway_cpus, env=env_off),
        "all on": stack.router("router-edge-on", supergraph, cpus=load.gateway_cpus, env=env_on),
        "all on, read counted": stack.router(
            "router-edge-counted",
            supergraph,
            cpus=load.gateway_cpus,
            env={**env_on, "ROUTER_RATE_LIMITS__RULES": json.dumps(counted_rule)},
        ),
    }
    return stub, routers, store


def wrk_env() -> dict[str, str]:
    """The load's wrk environment: the ordinary read with a valid customer token."""
    return {"BODY_FILE": str(write_query("edgecost", QUERY)), "CHECK": "1", "AUTH": f"Bearer {_token()}"}


def run(stack: Stack, load: Load, report: Report, postgres_url: str | None = None) -> None:
    built, missing = _built()
    for feature in missing:
        print(f"  not built yet (no ROUTER_{feature.section.upper()} settings): {feature.name}")
    for feature in built:
        if not feature.on and not feature.off:
            print(f"  no off switch, on in both routers: {feature.name}")
    stub, routers, store = edge_routers(stack, load, postgres_url)
    script = BENCH_DIR / "lua" / "post.lua"
    body = wrk_env()
    for _, url in routers.values():
        _wrk(_wrk_argv(url, script, CONNS, 2, load), body)  # warm-up (and the store's tables)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in routers}
    order = list(routers)
    for rnd in range(load.rounds):
        for name in order if rnd % 2 == 0 else list(reversed(order)):
            proc, url = routers[name]
            quiesce([proc.pid, stub.pid], max_wait_s=30)
            ticks = cpu_ticks(proc.pids())
            result = _wrk(_wrk_argv(url, script, CONNS, load.duration_s, load), body)
            # The router's CPU per request: steadier than req/s when other work shares the box.
            cpu_s = (cpu_ticks(proc.pids()) - ticks) / CLK_TCK
            result["cpu_ms_per_request"] = cpu_s * 1000 / max(result["requests"], 1)
            samples[name].append(result)
    med = {
        name: {"rps": median([r["rps"] for r in runs])}
        | {m: median([r["lat_ms"][m] for r in runs]) for m in ("p50", "p99")}
        | {"errors": sum(sum(v for v in r["errors"].values() if isinstance(v, int)) for r in runs)}
        | {"cpu_ms": median([r["cpu_ms_per_request"] for r in runs])}
        for name, runs in samples.items()
    }
    base = med["all off"]["rps"]
    base_cpu = med["all off"]["cpu_ms"]
    print(
        table(
            [
                [
                    name,
                    f"{v['rps']:.0f}",
                    f"{v['rps'] / base:.3f}",
                    f"{v['p50']:.2f}",
                    f"{v['p99']:.2f}",
                    f"{v['cpu_ms']:.3f}",
                    f"{v['cpu_ms'] / base_cpu:.3f}",
                    v["errors"],
                ]
                for name, v in med.items()
            ],
            ["router", "req/s", "vs off", "p50 ms", "p99 ms", "CPU ms/req", "vs off", "errors"],
        )
    )
    cost = 1 - med["all on"]["rps"] / base
    print(
        f"  features on: {', '.join(f.name for f in built)}; store {store.split(':')[0]}\n"
        f"  throughput cost of the edge with everything on: {cost * 100:.1f}% (on/off = {1 - cost:.3f}x; "
        f"target cost <= {COST_TARGET * 100:.0f}%, on/off >= {1 - COST_TARGET:.2f}x: "
        f"{'met' if cost <= COST_TARGET else 'MISSED'})\n"
        f"  router CPU per request, on/off = {med['all on']['cpu_ms'] / base_cpu:.3f}x (the steadier figure on a "
        "shared box: req/s swings with whatever else runs)"
    )
    report.section(
        "edgecost",
        {
            "features_on": [f.name for f in built],
            "not_built": [f.name for f in missing],
            "medians": med,
            "cost": cost,
            "cpu_ratio": med["all on"]["cpu_ms"] / base_cpu,
            "runs": samples,
        },
    )
    if cost > COST_TARGET:
        report.fail(f"edgecost: the edge features cost {cost * 100:.1f}% of throughput")
    if any(v["errors"] for v in med.values()):
        report.fail("edgecost: requests got errors")
    for name in ("router-edge-off", "router-edge-on", "router-edge-counted", "edgecost-stub"):
        stack.stop(name)
