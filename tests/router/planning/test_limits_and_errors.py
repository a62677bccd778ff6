"""Planning is bounded and fails with clear, coded errors."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from router.planning import PlanningError, build_query_plan
from router.planning import query_plan as p
from router.supergraph import load_supergraph

from ._support import SETS, supergraph
from .test_plans import _fetches

HEAVY = (SETS.parent.parent / "router" / "planning" / "cases" / "peers_heavy" / "operation.graphql").read_text()


def _bomb(levels: int) -> str:
    frags = [f"fragment F{i} on Product {{ ...F{i + 1} ...F{i + 1} name }}" for i in range(levels)]
    frags.append(f"fragment F{levels} on Product {{ id }}")
    return "{ topProducts { ...F0 } }\n" + "\n".join(frags)


def test_fragment_bomb_fails_fast_with_limit_error() -> None:
    sg = supergraph("entities")
    doc = parse(_bomb(40))
    assert not validate(sg.api_schema, doc)
    with pytest.raises(PlanningError) as err:
        build_query_plan(sg, doc)
    assert err.value.code == "PLANNING_LIMIT_EXCEEDED"


def test_small_fragment_nesting_still_plans() -> None:
    plan = build_query_plan(supergraph("entities"), parse(_bomb(5)))
    assert len(_fetches(plan.node)) == 1


def test_work_limit_is_enforced() -> None:
    sg = supergraph("peers_bench")
    with pytest.raises(PlanningError) as err:
        build_query_plan(sg, parse(HEAVY), max_work=50)
    assert err.value.code == "PLANNING_LIMIT_EXCEEDED"
    with pytest.raises(PlanningError) as err:
        build_query_plan(sg, parse(HEAVY), max_steps=3)
    assert err.value.code == "PLANNING_LIMIT_EXCEEDED"
    assert build_query_plan(sg, parse(HEAVY)).node is not None


def test_deeply_nested_query_is_bounded() -> None:
    sg = supergraph("peers_bench")
    inner = "id"
    for _ in range(60):
        inner = f"reviews {{ author {{ name {inner} }} }}"
    with pytest.raises(PlanningError) as err:
        build_query_plan(sg, parse(f"{{ users {{ {inner} }} }}"), max_steps=40)
    assert err.value.code == "PLANNING_LIMIT_EXCEEDED"


def test_unreachable_field_is_unsatisfiable() -> None:
    text = (SETS / "entities" / "supergraph.graphql").read_text()
    broken = text.replace(
        '@join__type(graph: USERS, key: "id")', '@join__type(graph: USERS, key: "id", resolvable: false)'
    )
    assert broken != text
    sg = load_supergraph(broken)
    with pytest.raises(PlanningError) as err:
        build_query_plan(sg, parse("{ topProducts { reviews { author { name } } } }"))
    assert err.value.code == "UNSATISFIABLE"
    assert "User.name" in err.value.message


def test_operation_selection_errors() -> None:
    sg = supergraph("entities")
    doc = parse("query A { me { name } } query B { topProducts { name } }")
    with pytest.raises(PlanningError):
        build_query_plan(sg, doc)
    with pytest.raises(PlanningError) as err:
        build_query_plan(sg, doc, "C")
    assert "Unknown operation" in err.value.message
    plan = build_query_plan(sg, doc, "B")
    assert [f.service_name for f in _fetches(plan.node)] == ["products"]


def test_representations_variable_is_reserved() -> None:
    with pytest.raises(PlanningError) as err:
        build_query_plan(
            supergraph("entities"),
            parse("query($representations: Int) { topProducts(first: $representations) { id } }"),
        )
    assert "reserved" in err.value.message


def test_only_root_typename_needs_no_fetch() -> None:
    plan = build_query_plan(supergraph("entities"), parse("{ __typename }"))
    assert plan.node is None


def test_batching_across_paths_can_be_disabled() -> None:
    sg = supergraph("peers_bench")
    batched = build_query_plan(sg, parse(HEAVY))
    flat = build_query_plan(sg, parse(HEAVY), batch_paths=False)
    assert len(_fetches(flat.node)) > len(_fetches(batched.node)) == 7

    def flattens(node: p.PlanNode | None) -> list[p.FlattenNode]:
        if isinstance(node, p.FlattenNode):
            return [node]
        if isinstance(node, (p.SequenceNode, p.ParallelNode)):
            return [f for n in node.nodes for f in flattens(n)]
        return []

    assert all(not f.paths for f in flattens(flat.node))
    multi = [f for f in flattens(batched.node) if f.paths]
    assert multi and all(f.paths[0] == f.path and len(f.all_paths) > 1 for f in multi)


def test_progressive_override_labels_change_the_plan() -> None:
    sg = supergraph("override")
    doc = parse("{ products { stock } }")
    off = build_query_plan(sg, doc)
    on = build_query_plan(sg, doc, override_labels=frozenset({"percent(50)"}))
    assert [f.service_name for f in _fetches(off.node)] == ["catalog"]
    assert [f.service_name for f in _fetches(on.node)] == ["catalog", "pricing"]


def test_deepest_parseable_nesting_plans_or_fails_cleanly() -> None:
    sg = supergraph("peers_bench")
    inner = "id"
    for _ in range(99):  # graphql-core's parser refuses much deeper documents
        inner = f"reviews {{ author {{ name {inner} }} }}"
    doc = parse(f"{{ users {{ {inner} }} }}")
    try:
        plan = build_query_plan(sg, doc)
    except PlanningError as err:  # never a RecursionError
        assert err.code == "PLANNING_LIMIT_EXCEEDED"
    else:  # accounts -> reviews (the whole chain) -> accounts (every author's name, one batched call)
        assert [f.service_name for f in _fetches(plan.node)] == ["accounts", "reviews", "accounts"]
        assert isinstance(plan.node, p.SequenceNode)
        last = plan.node.nodes[-1]
        assert isinstance(last, p.FlattenNode) and len(last.all_paths) == 99
