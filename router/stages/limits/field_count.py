"""Field count: every field the operation would execute, fragments counted per spread, plus the
fields of fragments it never spreads (they are not executed but still cost validation).

This bounds both the response the subgraphs are asked for and the validation work: checking that
same-named fields can be merged compares them pairwise, so a document repeating one field
thousands of times is refused here, before that check runs.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from ._counting import Fragments, count_fields

__all__ = ["operation_fields"]


def _one(_: FieldNode) -> int:
    return 1


def operation_fields(operation: OperationDefinitionNode, fragments: Fragments) -> int:
    total = count_fields(operation.selection_set, fragments, _one)
    used = _spread_names(operation, fragments)
    for name, fragment in fragments.items():
        if name not in used:
            total += count_fields(fragment.selection_set, {}, _one)
    return total


def _spread_names(operation: OperationDefinitionNode, fragments: Fragments) -> set[str]:
    seen: set[str] = set()
    stack: list[SelectionSetNode] = [operation.selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    stack.append(fragments[name].selection_set)
            elif isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
                stack.append(selection.selection_set)
    return seen
