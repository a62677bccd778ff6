"""Gateway over the in-process "shop" subgraphs with hand-written query plans.

These tests pin the executor and projection independently of the planner: each test names
the exact plan the gateway runs (what a correct planner would produce for that operation).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from router.gateway import Gateway, GatewayOptions
from router.planning.query_plan import QueryPlan
from router.subgraph_client import HttpSubgraphClient
from router.supergraph import load_supergraph
from tests.fixtures.subgraph_apps import SubgraphApp
from tests.fixtures.subgraph_apps.shop import mount_all, supergraph_sdl

SUPERGRAPH = load_supergraph(supergraph_sdl())


class HandPlanner:
    """Returns the plan registered for a (query, operation name); counts calls."""

    def __init__(self) -> None:
        self.plans: dict[str, QueryPlan] = {}
        self.calls = 0

    def __call__(
        self, supergraph: Any, document: Any, operation_name: str | None, *, override_labels: Any = frozenset()
    ) -> QueryPlan:
        self.calls += 1
        from graphql import print_ast

        key = print_ast(document)
        for query, plan in self.plans.items():
            if _norm(query) == _norm(key):
                return plan
        raise AssertionError(f"no hand-written plan for:\n{key}")


def _norm(text: str) -> str:
    from graphql import parse, print_ast

    return print_ast(parse(text))


@pytest.fixture
def planner() -> HandPlanner:
    return HandPlanner()


@pytest.fixture
async def make_gateway(apps: dict[str, SubgraphApp], planner: HandPlanner) -> AsyncIterator[Callable[..., Gateway]]:
    made: list[Gateway] = []
    server = mount_all(apps)

    def make(*, deduplicate_subgraph_queries: bool = True, **options: Any) -> Gateway:
        client = HttpSubgraphClient(
            {name: sub.url for name, sub in SUPERGRAPH.subgraphs.items()},
            apps={name: server for name in apps},
            deduplicate_queries=deduplicate_subgraph_queries,
        )
        gw = Gateway.from_components(
            api_schema=SUPERGRAPH.api_schema,
            planner=planner,
            client=client,
            supergraph=SUPERGRAPH,
            options=GatewayOptions(**options),
        )
        made.append(gw)
        return gw

    yield make
    for gw in made:
        await gw.aclose()
