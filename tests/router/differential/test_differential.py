"""Differential test: generated operations sent to our router and to the reference gateways over the same subgraphs.

Every purpose-built set in ``tests/fixtures/subgraph_sets`` (plus the public benchmark's) is served over real HTTP
once; Apollo Gateway and Hive Gateway (pinned by ``bench/peers/package-lock.json``) run in a Node process on the
same supergraph SDL and URLs, and our router is a ``Gateway`` on that SDL. Each set gets its share of
``SETRUM_DIFF_OPS`` random queries (``generator.py``; seed and budget in ``cases.py``); the answers must have
identical ``data`` and the same presence of ``errors``. Where both reference gateways are wrong and we follow the
specification instead, the case is recognised by name in ``cases.py``, and docs/router.md §9 Checked against the
reference gateways explains it. Setrum's own supergraph is compared in ``test_setrum_schema.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from router.gateway import Gateway, GatewayOptions
from tests.fixtures.subgraph_apps import bench, mount_all, sets

from .cases import FIXTURE_SETS, SEEDS, Seed, check_all, ops_for, post
from .generator import GeneratedOperation, OperationGenerator
from .harness import node_missing, reference_gateways, serve, strings_in

APPS_DIR = Path(sets.__file__).resolve().parent
ALL_SETS = FIXTURE_SETS

pytestmark = pytest.mark.timeout(900)


def _apps(set_name: str) -> dict[str, Any]:
    return bench.create_apps() if set_name == "peers_bench" else sets.create_apps(set_name)


def _sdl(set_name: str, base: str) -> str:
    if set_name == "peers_bench":
        return bench.supergraph_sdl(base)
    return sets.supergraph_sdl(set_name, base)


def _strings(set_name: str) -> list[str]:
    if set_name == "peers_bench":
        return strings_in(Path(bench.__file__), bench.PEERS_DIR / "data.json")
    return strings_in(APPS_DIR / f"{set_name}.py")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, dict[str, str]]]]:
    """Every set's subgraphs on one uvicorn server (``/<set>/<graph>/graphql``) and the reference gateways for each
    set: set -> (supergraph SDL, {"apollo": URL, "hive": URL})."""
    reason = node_missing()
    if reason:
        pytest.skip(reason)
    for seed in SEEDS:
        print(f"\ndifferential test: {seed.describe()}, {ops_for('fixture set', seed)} operations per set")
    app = Starlette(routes=[Mount(f"/{name}", app=mount_all(_apps(name))) for name in ALL_SETS])
    with serve(app) as base:
        sdls = {name: _sdl(name, f"{base}/{name}") for name in ALL_SETS}
        with reference_gateways(sdls, tmp_path_factory.mktemp("gateways")) as urls:
            yield {name: (sdls[name], urls[name]) for name in ALL_SETS}


@pytest.mark.parametrize("set_name", ALL_SETS)
@pytest.mark.parametrize("seed", SEEDS, ids=[s.label for s in SEEDS])
async def test_router_answers_as_the_reference_gateways(
    seed: Seed, set_name: str, world: dict[str, tuple[str, dict[str, str]]]
) -> None:
    sdl, urls = world[set_name]
    gateway = Gateway(sdl, options=GatewayOptions(subgraph_timeout_s=60))  # a busy CI box is slow, not wrong
    generator = OperationGenerator(gateway.api_schema, seed.for_set(set_name), strings=_strings(set_name))
    ops = [generator.operation() for _ in range(ops_for(set_name, seed))]

    async def answers(op: GeneratedOperation) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        body = {"query": op.query, "variables": op.variables}
        ours, apollo, hive = await asyncio.gather(
            gateway.execute(op.query, op.variables),
            post(client, urls["apollo"], body),
            post(client, urls["hive"], body),
        )
        return ours.body, apollo, hive

    try:
        # Node closes idle connections after 5 s: never reuse one that old.
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(keepalive_expiry=2.0)) as client:
            await check_all(set_name, seed, ops, answers, gateway.api_schema)
    finally:
        await gateway.aclose()
