"""``normalize_operation``: the operation stage's entry function (docs/router.md §3.1 Normalisation).

Runs the passes in order: select the operation -> inline fragments and literal conditions
-> type-aware fragment clean-up -> merge same-key selections. The document must already be
valid against the API schema; types are looked up in the supergraph schema.
"""

from __future__ import annotations

from graphql import DocumentNode, GraphQLSchema

from router.errors import ValidationFailed

from .inline import inline_selections
from .merge_selections import merge_selections
from .select import select_operation
from .selection_tree import NormalizedOperation
from .simplify import simplify_fragments

__all__ = ["normalize_operation", "DEFAULT_MAX_SELECTIONS"]

#: Selections produced by fragment inlining before we give up (fragment bombs).
DEFAULT_MAX_SELECTIONS = 50_000

_ROOT_DEFAULTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def normalize_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    *,
    max_selections: int = DEFAULT_MAX_SELECTIONS,
) -> NormalizedOperation:
    op, fragments = select_operation(document, operation_name)
    kind = op.operation.value
    root = schema.get_root_type(op.operation)
    if root is None:
        raise ValidationFailed(f"Schema is not configured to execute {kind} operation.")
    selections = inline_selections(op.selection_set, fragments, max_selections)
    selections = simplify_fragments(schema, root.name, selections)
    selections = merge_selections(selections)
    return NormalizedOperation(
        kind=kind,
        name=op.name.value if op.name else None,
        root_type=root.name,
        variable_definitions=tuple(op.variable_definitions or ()),
        selections=selections,
    )
