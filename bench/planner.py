"""Section 4 — planner: cold planning time, cached-plan lookup, and bounded work on hostile input.

In-process (no HTTP): ``router.planning.build_query_plan`` for cold plans (after parse +
validate, which are timed separately), ``router.gateway.Gateway.explain`` on a warm gateway for
the cached lookup a repeated request pays. Two schemas: ours, and a synthetic supergraph
(40 subgraphs × 20 entity types = 800 types, composed by our composer) queried 8 levels deep
where every level crosses into another subgraph. A last group of deliberately explosive
operations must fail fast with a clear ``PLANNING_LIMIT_EXCEEDED``-style error, never hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from .common import WORK, Load, Report, median, table
from .stack import DASHBOARD_QUERY, Stack

__all__ = ["run", "synthetic_subgraphs"]

N_SUBGRAPHS = 40
TYPES_PER_SUBGRAPH = 20
DEPTH = 8
ORDINARY_BUDGET_MS = 3.0  # "well under a few milliseconds for ordinary queries"
HOSTILE_BUDGET_S = 5.0  # a hostile operation must be refused within this

OUR_QUERIES = {
    "dashboard": DASHBOARD_QUERY,
    "tariffs": "query Tariffs { tariffs { code description rate } }",
    "signIn": 'mutation SignIn { signIn(email: "a@b.c", password: "x") { token customer { id name } } }',
    "purchaseToken": """mutation Buy($m: String!, $d: Decimal!, $r: String!) {
  purchaseToken(meterNumber: $m, denomination: $d, clientReference: $r) {
    id status token kwh totalPaid meter { number holderName tariff { code } } customer { id name email } } }""",
    "purchase history": """query History { me { purchases(first: 20) { nodes { id status token kwh totalPaid
      meter { number holderName region { name } monthlyUsage { kwh remainingKwh } } customer { name } } } } }""",
}


def synthetic_subgraphs() -> list[tuple[str, str]]:
    """(name, SDL) of 40 subgraphs; T{i}_{j} is owned by s{i}; ``next`` jumps to s{i+1},
    ``link`` to s{i+7}, ``sibling`` stays in s{i}."""
    out = []
    for i in range(N_SUBGRAPHS):
        lines = [
            'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])',
            f"type Query {{ root{i}: T{i}_0  list{i}(first: Int = 10): [T{i}_0!]! }}",
        ]
        stubs: set[str] = set()
        for j in range(TYPES_PER_SUBGRAPH):
            nxt = f"T{(i + 1) % N_SUBGRAPHS}_{j}"
            link = f"T{(i + 7) % N_SUBGRAPHS}_{(j + 1) % TYPES_PER_SUBGRAPH}"
            sib = f"T{i}_{(j + 1) % TYPES_PER_SUBGRAPH}"
            stubs.update({nxt, link})
            lines.append(
                f'type T{i}_{j} @key(fields: "id") {{ id: ID! name: String! value: Int! tags: [String!]! '
                f"next: {nxt} link: [{link}!]! sibling: {sib} }}"
            )
        for stub in sorted(stubs):
            if not stub.startswith(f"T{i}_"):
                lines.append(f'type {stub} @key(fields: "id", resolvable: false) {{ id: ID! }}')
        out.append((f"s{i:02d}", "\n".join(lines)))
    return out


def synthetic_supergraph() -> tuple[str, float]:
    """Compose (cached in bench/.work); returns (SDL, composition seconds or 0 if cached)."""
    path = WORK / f"supergraph-synthetic-{N_SUBGRAPHS}x{TYPES_PER_SUBGRAPH}.graphql"
    if path.is_file():
        return path.read_text(), 0.0
    from router.composition import SubgraphSource, compose

    t0 = time.perf_counter()
    result = compose([SubgraphSource(n, f"http://127.0.0.1:9/{n}", sdl) for n, sdl in synthetic_subgraphs()])
    elapsed = time.perf_counter() - t0
    if not result.ok:
        raise RuntimeError("synthetic composition failed: " + "; ".join(e.message for e in result.errors[:5]))
    assert result.supergraph_sdl is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.supergraph_sdl)
    return result.supergraph_sdl, elapsed


def _chain(field: str, depth: int, leaf: str = "id name value") -> str:
    if depth == 0:
        return leaf
    return f"{leaf} {field} {{ {_chain(field, depth - 1, leaf)} }}"


def _tree(depth: int) -> str:
    """Every level selects both ``next`` (s+1) and ``link`` (s+7): 2^depth entity paths."""
    if depth == 0:
        return "id name"
    inner = _tree(depth - 1)
    return f"id name next {{ {inner} }} link {{ {inner} }}"


def synthetic_queries() -> dict[str, str]:
    return {
        "chain 8 deep (next)": f"query Chain {{ root0 {{ {_chain('next', DEPTH)} }} }}",
        "chain 8 deep (list link)": f"query Links {{ list0 {{ {_chain('link', DEPTH)} }} }}",
        "mixed 8 deep + siblings": "query Mixed { root3 { "
        + _chain("next", 4, "id name sibling { id value next { id name } }")
        + " } root20 { "
        + _chain("link", DEPTH, "id tags")
        + " } }",
        "tree 2^6 paths": f"query Tree6 {{ root0 {{ {_tree(6)} }} }}",
    }


def hostile_queries() -> dict[str, str]:
    frags = (
        "\n".join(
            f"fragment F{k} on T{k % N_SUBGRAPHS}_0 {{ id a: next {{ ...F{k + 1} }} b: next {{ ...F{k + 1} }} "
            f"c: next {{ ...F{k + 1} }} d: next {{ ...F{k + 1} }} }}"
            for k in range(12)
        )
        + "\nfragment F12 on T12_0 { id name }"
    )
    return {
        "tree 2^12 paths": f"query Tree12 {{ root0 {{ {_tree(12)} }} }}",
        "fragment bomb 4^12": "query Bomb { root0 { ...F0 } }\n" + frags,
    }


def _time(fn: Callable[[], Any], *, min_runs: int = 5, budget_s: float = 0.5) -> tuple[float, Any]:
    """Median wall time (ms) of fn over at least min_runs runs or budget_s seconds."""
    times: list[float] = []
    result: Any = None
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < budget_s and len(times) < 2000):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return median(times), result


def _fetch_count(plan: Any) -> int:
    from router.planning.query_plan import FetchNode

    count = 0
    stack = [plan.node]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if isinstance(node, FetchNode):
            count += 1
        for attr in ("nodes",):
            stack.extend(getattr(node, attr, ()) or ())
        for attr in ("node", "if_clause", "else_clause"):
            child = getattr(node, attr, None)
            if child is not None:
                stack.append(child)
    return count


def _measure(sdl: str, queries: dict[str, str], label: str, rows: list[list[Any]], out: dict[str, Any]) -> None:
    from graphql import parse, validate

    from router.gateway import Gateway
    from router.planning import build_query_plan

    gateway = Gateway(sdl)
    supergraph = gateway.supergraph
    for name, query in queries.items():
        parse_ms, document = _time(partial(parse, query))
        errors = validate(gateway.api_schema, document)
        if errors:
            raise RuntimeError(f"{label}/{name}: invalid benchmark query: {errors[0].message}")
        validate_ms, _ = _time(partial(validate, gateway.api_schema, document))
        plan_ms, plan = _time(partial(build_query_plan, supergraph, document))
        gateway.explain(query)  # fill the cache
        cached_ms, _ = _time(partial(gateway.explain, query), min_runs=200, budget_s=0.3)
        fetches = _fetch_count(plan)
        out[f"{label}/{name}"] = {
            "parse_ms": parse_ms,
            "validate_ms": validate_ms,
            "plan_cold_ms": plan_ms,
            "cached_lookup_us": cached_ms * 1000,
            "fetches": fetches,
        }
        rows.append(
            [label, name, f"{parse_ms:.3f}", f"{validate_ms:.3f}", f"{plan_ms:.3f}", f"{cached_ms * 1000:.1f}", fetches]
        )
        print(
            f"    {label} / {name}: plan {plan_ms:.3f} ms, cached {cached_ms * 1000:.1f} µs, {fetches} fetches",
            flush=True,
        )


def run(stack: Stack, load: Load, report: Report) -> None:
    out: dict[str, Any] = {}
    rows: list[list[Any]] = []
    _measure(stack.supergraph().read_text(), OUR_QUERIES, "setrum", rows, out)
    sdl, compose_s = synthetic_supergraph()
    out["synthetic"] = {
        "subgraphs": N_SUBGRAPHS,
        "entity_types": N_SUBGRAPHS * TYPES_PER_SUBGRAPH,
        "compose_s": compose_s,
        "sdl_bytes": len(sdl),
    }
    print(
        f"    synthetic supergraph: {N_SUBGRAPHS} subgraphs, {N_SUBGRAPHS * TYPES_PER_SUBGRAPH} entity types, "
        f"{len(sdl) // 1024} KB" + (f", composed in {compose_s:.1f}s" if compose_s else " (cached)"),
        flush=True,
    )
    _measure(sdl, synthetic_queries(), "synthetic", rows, out)
    print(table(rows, ["schema", "operation", "parse ms", "validate ms", "plan cold ms", "cached µs", "fetches"]))

    # Hostile operations: planning must stop on its own work bound with a clear error.
    from graphql import parse

    from router.gateway import Gateway
    from router.planning import PlanningError, build_query_plan

    gateway = Gateway(sdl)
    hostile_rows = []
    for name, query in hostile_queries().items():
        document = parse(query)
        t0 = time.perf_counter()
        try:
            plan = build_query_plan(gateway.supergraph, document)
            outcome = f"planned ({_fetch_count(plan)} fetches)"
        except PlanningError as exc:
            outcome = f"refused: {getattr(exc, 'code', '?')}: {exc}"
        except Exception as exc:  # anything else is a finding
            outcome = f"CRASHED: {type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - t0
        hostile_rows.append([name, f"{elapsed * 1000:.0f}", outcome[:110]])
        out[f"hostile/{name}"] = {"seconds": elapsed, "outcome": outcome}
        if elapsed > HOSTILE_BUDGET_S or outcome.startswith("CRASHED"):
            report.fail(f"planner on hostile '{name}': {outcome[:80]} after {elapsed:.1f}s")
    print(table(hostile_rows, ["hostile operation", "ms", "outcome"]))
    slow = [k for k, v in out.items() if k.startswith("setrum/") and v["plan_cold_ms"] > ORDINARY_BUDGET_MS]
    print(
        f"  target: cold plan of each ordinary query < {ORDINARY_BUDGET_MS} ms: "
        + ("OK" if not slow else f"MISSED for {', '.join(slow)}")
    )
    for k in slow:
        report.fail(f"cold planning of {k} took {out[k]['plan_cold_ms']:.2f} ms")
    report.section("planner", out)
