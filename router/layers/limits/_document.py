"""Shared by the limit rules: a cached parse and the operation/fragments a request will run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from graphql import DocumentNode, FragmentDefinitionNode, GraphQLError, OperationDefinitionNode, SelectionSetNode, parse

__all__ = ["CountFn", "Operation", "fragment_memo", "select_operation"]

_CACHEABLE_CHARS = 20_000  # keep the cache small: huge documents are parsed, not cached


@dataclass(frozen=True, slots=True)
class Operation:
    definition: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]


@lru_cache(maxsize=512)
def _parse_cached(query: str) -> DocumentNode | None:
    return _parse(query)


def _parse(query: str) -> DocumentNode | None:
    try:
        return parse(query, no_location=True)
    except GraphQLError:
        return None  # the gateway reports the syntax error itself


def select_operation(query: str, operation_name: str | None) -> Operation | None:
    """The operation the gateway will run, or ``None`` when it will refuse the request anyway."""
    document = _parse_cached(query) if len(query) <= _CACHEABLE_CHARS else _parse(query)
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        chosen = [op for op in operations if op.name is not None and op.name.value == operation_name]
    else:
        chosen = operations
    if len(chosen) != 1:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return Operation(chosen[0], fragments)


CountFn = Callable[[SelectionSetNode], int]


def fragment_memo(fragments: dict[str, FragmentDefinitionNode], count: CountFn) -> Callable[[str], int]:
    """Count each named fragment once (fragment "bombs" stay linear) and treat cycles as 0;
    validation rejects cyclic fragments later, the limits must only not loop on them."""
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
