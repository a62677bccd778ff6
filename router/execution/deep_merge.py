"""Deep merge of subgraph results into the response tree (docs/router.md §4.2 Root fetches and merging).

Objects merge key by key, lists element by element, and a ``null`` from a later fetch never
overwrites a value that is already there (an entity fetch returning ``null`` for a field must
not erase what the owning subgraph already produced).
"""

from __future__ import annotations

from typing import Any

__all__ = ["deep_merge"]


def deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Merge ``source`` into ``target`` in place. Sub-objects of ``source`` may be shared, not copied."""
    for key, value in source.items():
        if key in target:
            current = target[key]
            if value is None:
                continue
            tv = type(value)
            if tv is dict and type(current) is dict:
                deep_merge(current, value)
                continue
            if tv is list and type(current) is list and len(current) == len(value):
                _merge_lists(current, value)
                continue
        target[key] = value


def _merge_lists(target: list[Any], source: list[Any]) -> None:
    for i, value in enumerate(source):
        current = target[i]
        if value is None:
            continue
        tv = type(value)
        if tv is dict and type(current) is dict:
            deep_merge(current, value)
        elif tv is list and type(current) is list and len(current) == len(value):
            _merge_lists(current, value)
        else:
            target[i] = value
