"""Operation depth: the longest chain of nested field selections (``{ a { b } }`` is 2).

Fragments add no depth of their own; a spread counts as its fragment's selections in place.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from ._counting import Fragments, fragment_memo

__all__ = ["operation_depth"]


def operation_depth(operation: OperationDefinitionNode, fragments: Fragments) -> int:
    def depth(selection_set: SelectionSetNode) -> int:
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                d = 1 + (depth(selection.selection_set) if selection.selection_set else 0)
            elif isinstance(selection, InlineFragmentNode):
                d = depth(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                d = fragment(selection.name.value)
            else:  # pragma: no cover - graphql-core has no other selection kinds
                d = 0
            deepest = max(deepest, d)
        return deepest

    fragment = fragment_memo(fragments, depth)
    return depth(operation.selection_set)
