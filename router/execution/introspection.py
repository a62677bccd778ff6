"""Local introspection: ``__schema``/``__type`` root fields answered by graphql-core.

Only the introspection root fields of the client operation are executed (a trimmed copy of the
operation, built once per prepared operation); the result is spliced into the projected
response under the same response keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    execute_sync,
)

from .projection import INTROSPECTION_FIELDS

__all__ = ["run_introspection", "split_introspection"]


def _root_selections(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode], seen: set[str]
) -> list[tuple[SelectionNode, bool]]:
    """Flatten root selections into (field, is_introspection), inlining root fragment spreads."""
    out: list[tuple[SelectionNode, bool]] = []
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            out.append((sel, sel.name.value in INTROSPECTION_FIELDS))
        elif isinstance(sel, InlineFragmentNode):
            inner = _root_selections(sel.selection_set, fragments, seen)
            if any(i for _, i in inner):
                out.extend(inner)
            else:
                out.append((sel, False))
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments.get(sel.name.value)
            if frag is None or sel.name.value in seen:
                continue
            seen.add(sel.name.value)
            inner = _root_selections(frag.selection_set, fragments, seen)
            if any(i for _, i in inner):
                out.extend(inner)
            else:
                out.append((sel, False))
    return out


def split_introspection(
    document: DocumentNode, operation: OperationDefinitionNode
) -> tuple[DocumentNode | None, DocumentNode | None]:
    """Return ``(introspection_document, planning_document)``.

    ``introspection_document`` is None when the operation has no ``__schema``/``__type``;
    ``planning_document`` is None when nothing is left for the subgraphs (only introspection
    and ``__typename`` at the root). Without introspection the planning document is the
    original document.
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    selections = _root_selections(operation.selection_set, fragments, set())
    intro = [s for s, i in selections if i]
    if not intro:
        rest_fields = [s for s, _ in selections]
        only_typename = all(isinstance(s, FieldNode) and s.name.value == "__typename" for s in rest_fields)
        return None, (None if only_typename else document)
    rest = [s for s, i in selections if not i and not (isinstance(s, FieldNode) and s.name.value == "__typename")]
    others = [d for d in document.definitions if not isinstance(d, OperationDefinitionNode)]

    def with_selections(sels: list[SelectionNode]) -> DocumentNode:
        op = OperationDefinitionNode(
            operation=operation.operation,
            name=operation.name,
            variable_definitions=operation.variable_definitions,
            directives=operation.directives,
            selection_set=SelectionSetNode(selections=tuple(sels)),
        )
        return DocumentNode(definitions=(op, *others))

    return with_selections(intro), (with_selections(rest) if rest else None)


def run_introspection(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    result = execute_sync(schema, document, variable_values=dict(variables or {}))
    assert isinstance(result, ExecutionResult)
    errors = [dict(e.formatted) for e in result.errors or ()]
    return (result.data or {}), errors
