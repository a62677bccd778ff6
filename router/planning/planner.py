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
from ..operation.selection_tree import NormalizedOperation
from ..supergraph.model import Supergraph
from .assemble import assemble_plan
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
    walker = Walker(supergraph, operation, frozenset(override_labels), max_work=max_work, max_steps=max_steps)
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
