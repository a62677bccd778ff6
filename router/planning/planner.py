"""``build_query_plan``: the planning stage's entry function.

(Supergraph, client document, operation name, active override labels) -> QueryPlan.
Pure and deterministic; the caller caches the result per (document, operation name,
labels). Steps: normalise the operation -> walk it into a fetch DAG -> assemble the plan.
"""

from __future__ import annotations

from graphql import DocumentNode

from router.errors import PlanningError, ValidationFailed

from ..operation import normalize_operation
from ..operation.normalize import DEFAULT_MAX_SELECTIONS
from ..operation.selection_tree import InlineFragment, NormalizedOperation, Selection
from ..supergraph.model import Supergraph
from .assemble import assemble_plan
from .plan_cost import plan_cost
from .query_plan import QueryPlan
from .walker import DEFAULT_MAX_STEPS, DEFAULT_MAX_WORK, Walker

__all__ = ["build_query_plan", "plannable_operation", "walk"]


def build_query_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None = None,
    *,
    override_labels: frozenset[str] = frozenset(),
    max_work: int = DEFAULT_MAX_WORK,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_selections: int = DEFAULT_MAX_SELECTIONS,
    batch_paths: bool = True,
) -> QueryPlan:
    """Plan ``document`` (already validated against ``supergraph.api_schema``).

    ``override_labels``: progressive-override labels active for this request (part of the
    plan cache key). ``max_work``/``max_steps``/``max_selections`` bound planning; beyond them
    :class:`PlanningError` with code ``PLANNING_LIMIT_EXCEEDED`` is raised. ``batch_paths``:
    merge same-level entity fetches to one subgraph across different response paths into one
    Flatten with several ``paths`` (see :class:`~router.planning.query_plan.FlattenNode`).
    """
    operation = plannable_operation(supergraph, document, operation_name, max_selections)
    labels = frozenset(override_labels)

    def plan_with(preference: str | None) -> QueryPlan:
        walker = Walker(
            supergraph, operation, labels, max_work=max_work, max_steps=max_steps, root_preference=preference
        )
        walk(walker)
        plan = assemble_plan(
            walker.steps,
            walker.roots,
            operation.name,
            operation.variable_definitions,
            batch_paths=batch_paths,
            supergraph=supergraph,
        )
        if walker.enums.checks:
            plan.extra["enum_checks"] = walker.enums.checks
        return plan

    best = plan_with(None)
    if operation.kind != "query":
        return best
    # Whole-plan comparison (docs/router.md §3.17): when root fields could come from several graphs, the plan
    # preferring each such graph competes with the greedy one; a candidate wins only when strictly cheaper.
    best_cost = plan_cost(best)
    for graph in _shared_root_graphs(supergraph, operation.root_type, operation.selections, labels):
        try:
            candidate = plan_with(graph)
        except PlanningError:
            continue
        cost = plan_cost(candidate)
        if cost < best_cost:
            best, best_cost = candidate, cost
    return best


def _shared_root_graphs(
    supergraph: Supergraph, root: str, selections: tuple[Selection, ...], labels: frozenset[str]
) -> list[str]:
    """Graphs resolving a root field that more than one graph resolves (in ``join__Graph`` order; at most 8)."""
    found: set[str] = set()
    stack = list(selections)
    while stack:
        sel = stack.pop()
        if isinstance(sel, InlineFragment):
            stack.extend(sel.selections)
            continue
        graphs = supergraph.resolving_graphs(root, sel.name, labels)
        if len(graphs) > 1:
            found.update(graphs)
    return sorted(found, key=lambda g: supergraph.graph_order.get(g, 0))[:_MAX_CANDIDATES]


_MAX_CANDIDATES = 8


def plannable_operation(
    supergraph: Supergraph, document: DocumentNode, operation_name: str | None, max_selections: int
) -> NormalizedOperation:
    """The normalised operation, or :class:`PlanningError` for what no plan can be made of."""
    try:
        operation = normalize_operation(supergraph.schema, document, operation_name, max_selections=max_selections)
    except ValidationFailed as exc:
        raise PlanningError(exc.message, exc.code) from None
    except RecursionError:
        raise PlanningError("Operation is nested too deeply to plan", "PLANNING_LIMIT_EXCEEDED") from None
    for v in operation.variable_definitions:
        if v.variable.name.value == "representations":
            raise PlanningError("The variable name $representations is reserved", "GRAPHQL_VALIDATION_FAILED")
    return operation


def walk(walker: Walker) -> None:
    try:
        walker.walk()
    except RecursionError:
        raise PlanningError("Operation is nested too deeply to plan", "PLANNING_LIMIT_EXCEEDED") from None
