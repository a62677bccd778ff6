"""Alias count: every aliased field the operation would execute, fragments counted per spread
(aliases are how one request multiplies the work of a single field)."""

from __future__ import annotations

from graphql import FieldNode, OperationDefinitionNode

from ._counting import Fragments, count_fields

__all__ = ["operation_aliases"]


def _aliased(field: FieldNode) -> int:
    return 1 if field.alias is not None else 0


def operation_aliases(operation: OperationDefinitionNode, fragments: Fragments) -> int:
    return count_fields(operation.selection_set, fragments, _aliased)
