"""Shared by the limit rules: walk an operation's selections with each named fragment counted
once (fragment "bombs" stay linear) and fragment cycles counted as 0 (validation reports
cycles; the limits must only not loop on them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

__all__ = ["Count", "Fragments", "count_fields", "fragment_memo"]

Fragments = Mapping[str, FragmentDefinitionNode]
Count = Callable[[SelectionSetNode], int]


def fragment_memo(fragments: Fragments, count: Count) -> Callable[[str], int]:
    """``of(name)``: ``count`` of the named fragment's selections, computed once per fragment."""
    memo: dict[str, int] = {}
    visiting: set[str] = set()

    def of(name: str) -> int:
        if name in memo:
            return memo[name]
        fragment = fragments.get(name)
        if fragment is None or name in visiting:
            return 0
        visiting.add(name)
        try:
            memo[name] = count(fragment.selection_set)
        finally:
            visiting.discard(name)
        return memo[name]

    return of


def count_fields(selection_set: SelectionSetNode, fragments: Fragments, weight: Callable[[FieldNode], int]) -> int:
    """Sum ``weight(field)`` over every field the selection set executes, each fragment spread
    counted in full (a fragment spread twice costs twice)."""

    def count(selections: SelectionSetNode) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += weight(selection)
                if selection.selection_set:
                    total += count(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += fragment(selection.name.value)
        return total

    fragment = fragment_memo(fragments, count)
    return count(selection_set)
