"""Whole-plan cost (docs/router.md §3.17 Whole-plan cost): plans are compared by their number of fetches, then by
their sequence depth (fetches that must wait for one another)."""

from __future__ import annotations

from . import query_plan as p

__all__ = ["plan_cost"]


def _fetches(node: p.PlanNode | None) -> int:
    if node is None:
        return 0
    if isinstance(node, p.FetchNode):
        return 1
    if isinstance(node, p.FlattenNode):
        return _fetches(node.node)
    if isinstance(node, p.ConditionNode):
        return _fetches(node.if_clause) + _fetches(node.else_clause)
    return sum(_fetches(n) for n in node.nodes)


def _depth(node: p.PlanNode | None) -> int:
    if node is None:
        return 0
    if isinstance(node, p.FetchNode):
        return 1
    if isinstance(node, p.FlattenNode):
        return _depth(node.node)
    if isinstance(node, p.ConditionNode):
        return max(_depth(node.if_clause), _depth(node.else_clause))
    if isinstance(node, p.SequenceNode):
        return sum(_depth(n) for n in node.nodes)
    return max((_depth(n) for n in node.nodes), default=0)


def plan_cost(plan: p.QueryPlan) -> tuple[int, int]:
    """(fetches, sequence depth): lower is better."""
    return _fetches(plan.node), _depth(plan.node)
