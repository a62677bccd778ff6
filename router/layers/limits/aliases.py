"""Alias count: every aliased field the operation would execute, fragments counted per spread
(aliases are how one request multiplies the work of a single field)."""

from __future__ import annotations

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from ._document import Operation, fragment_memo

__all__ = ["operation_aliases"]


def operation_aliases(operation: Operation) -> int:
    def count(selection_set: SelectionSetNode) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 1 if selection.alias is not None else 0
                if selection.selection_set:
                    total += count(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += fragment(selection.name.value)
        return total

    fragment = fragment_memo(operation.fragments, count)
    return count(operation.definition.selection_set)
