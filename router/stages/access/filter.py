"""The operation without the selections a caller may not see (docs/router.md §8.2).

Denied fields, inline fragments and fragment spreads are removed from the operation and from
every fragment definition. A selection set left empty gets a ``__typename`` placeholder (as Apollo
Router does) so the document stays valid for the planner; the client never sees it, because the
response is projected from the original operation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

__all__ = ["filter_document"]

_PLACEHOLDER = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())


def _with_selections(node: Any, selection_set: SelectionSetNode) -> Any:
    return dataclasses.replace(node, selection_set=selection_set)


def _filter(selection_set: SelectionSetNode, denied: frozenset[int]) -> SelectionSetNode:
    kept: list[Any] = []
    changed = False
    for sel in selection_set.selections:
        if id(sel) in denied:
            changed = True
            continue
        sub = getattr(sel, "selection_set", None)
        if sub is not None:
            new_sub = _filter(sub, denied)
            if new_sub is not sub:
                sel = _with_selections(sel, new_sub)
                changed = True
        kept.append(sel)
    if not changed:
        return selection_set
    return dataclasses.replace(selection_set, selections=tuple(kept) or (_PLACEHOLDER,))


def filter_document(
    document: DocumentNode, operation: OperationDefinitionNode, denied: frozenset[int]
) -> tuple[DocumentNode, OperationDefinitionNode]:
    """``document`` with the denied nodes removed from ``operation`` and every fragment."""
    definitions: list[Any] = []
    new_operation = operation
    for d in document.definitions:
        if d is operation:
            new_operation = dataclasses.replace(operation, selection_set=_filter(operation.selection_set, denied))
            definitions.append(new_operation)
        elif isinstance(d, OperationDefinitionNode):
            continue  # other operations of the document are not planned
        elif isinstance(d, ExecutableDefinitionNode):
            definitions.append(_with_selections(d, _filter(d.selection_set, denied)))
    return dataclasses.replace(document, definitions=tuple(definitions)), new_operation
