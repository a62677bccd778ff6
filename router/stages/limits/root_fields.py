"""Root field count: fields selected directly on the root type, through fragments too (each
root field is usually at least one subgraph fetch)."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from ._counting import Fragments, fragment_memo

__all__ = ["operation_root_fields"]


def operation_root_fields(operation: OperationDefinitionNode, fragments: Fragments) -> int:
    def count(selection_set: SelectionSetNode) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 1
            elif isinstance(selection, InlineFragmentNode):
                total += count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += fragment(selection.name.value)
        return total

    fragment = fragment_memo(fragments, count)
    return count(operation.selection_set)
