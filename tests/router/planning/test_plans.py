"""Plan cases: ``cases/<name>/operation.graphql`` planned against a fixture subgraph set must
print exactly as ``cases/<name>/plan.txt``; every subgraph operation in the plan must be
valid against that subgraph's own schema.

Header comments in ``operation.graphql``: ``# set: <subgraph set>`` (required),
``# operation: <name>``, ``# labels: a, b`` (active override labels).
The JSON form is kept beside it as ``plan.json``. Run with ``UPDATE_PLANS=1`` to rewrite
both (then review the diff like code!).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from graphql import parse, validate

from router.planning import build_query_plan, plan_to_json, plan_to_text
from router.planning import query_plan as p

from ._support import subgraph_schema, supergraph

CASES = Path(__file__).parent / "cases"
UPDATE = os.environ.get("UPDATE_PLANS") == "1"


def _header(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# ") and ":" in line:
            k, v = line[2:].split(":", 1)
            out[k.strip()] = v.strip()
    return out


def _fetches(node: p.PlanNode | None) -> list[p.FetchNode]:
    if node is None:
        return []
    if isinstance(node, p.FetchNode):
        return [node]
    if isinstance(node, p.FlattenNode):
        return _fetches(node.node)
    if isinstance(node, (p.SequenceNode, p.ParallelNode)):
        return [f for n in node.nodes for f in _fetches(n)]
    if isinstance(node, p.ConditionNode):
        return _fetches(node.if_clause) + _fetches(node.else_clause)
    raise AssertionError(node)


def plan_case(name: str) -> tuple[p.QueryPlan, dict[str, str]]:
    text = (CASES / name / "operation.graphql").read_text()
    head = _header(text)
    sg = supergraph(head["set"])
    doc = parse(text)
    errors = validate(sg.api_schema, doc)
    assert not errors, errors
    labels = frozenset(x.strip() for x in head.get("labels", "").split(",") if x.strip())
    return build_query_plan(sg, doc, head.get("operation"), override_labels=labels), head


@pytest.mark.parametrize("name", sorted(d.name for d in CASES.iterdir() if (d / "operation.graphql").exists()))
def test_plan_case(name: str) -> None:
    plan, head = plan_case(name)
    text = plan_to_text(plan)
    expected_file = CASES / name / "plan.txt"
    as_json = json.dumps(plan_to_json(plan), indent=2) + "\n"
    json_file = CASES / name / "plan.json"
    if UPDATE:
        expected_file.write_text(text)
        json_file.write_text(as_json)
    assert text == expected_file.read_text()
    assert as_json == json_file.read_text()
    for fetch in _fetches(plan.node):
        schema = subgraph_schema(head["set"], fetch.service_name)
        errors = validate(schema, parse(fetch.operation))
        assert not errors, (fetch.service_name, fetch.operation, errors)


def test_heavy_benchmark_query_needs_seven_fetches() -> None:
    plan, _ = plan_case("peers_heavy")
    fetches = _fetches(plan.node)
    assert len(fetches) == 7
    assert sorted(f.service_name for f in fetches) == sorted(
        ["accounts", "products", "reviews", "inventory", "products", "accounts", "inventory"]
    )
