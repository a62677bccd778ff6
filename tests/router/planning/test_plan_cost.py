"""Whole-plan cost (docs/router.md §3.17): candidate plans compete by number of fetches, then sequence depth."""

from __future__ import annotations

from graphql import parse

from router.composition import SubgraphSource, compose
from router.planning.plan_cost import plan_cost
from router.planning.planner import build_query_plan
from router.planning.printer import plan_to_text
from router.supergraph import load_supergraph

LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])\n'


def _supergraph(**sdls: str):
    result = compose([SubgraphSource(n, f"http://{n}/graphql", LINK + s) for n, s in sdls.items()])
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    return load_supergraph(result.supergraph_sdl)


def test_shared_root_field_joins_the_graph_another_field_needs():
    # x is in a and b, y only in b: field by field, x goes to a (first graph) and y to b, two fetches; the whole
    # plan preferring b is one fetch, so it wins.
    sg = _supergraph(a="type Query { x: Int @shareable }", b="type Query { x: Int @shareable y: Int }")
    plan = build_query_plan(sg, parse("{ x y }"))
    assert plan_cost(plan) == (1, 1)
    assert plan_to_text(plan).count('Fetch(service: "b")') == 1 and 'service: "a"' not in plan_to_text(plan)


def test_greedy_plan_kept_when_no_candidate_is_cheaper():
    sg = _supergraph(a="type Query { x: Int @shareable z: Int }", b="type Query { x: Int @shareable y: Int }")
    plan = build_query_plan(sg, parse("{ x z }"))
    assert plan_cost(plan) == (1, 1) and 'service: "a"' in plan_to_text(plan)
    # both graphs are needed whatever x's graph: two parallel fetches, depth 1
    assert plan_cost(build_query_plan(sg, parse("{ x y z }"))) == (2, 1)


def test_cost_counts_sequence_depth():
    sg = _supergraph(
        a='type Query { me: User }\ntype User @key(fields: "id") { id: ID! }',
        b='type User @key(fields: "id") { id: ID! name: String }',
    )
    assert plan_cost(build_query_plan(sg, parse("{ me { name } }"))) == (2, 2)
