"""Walking plan paths over the response tree and building entity representations.

Plan paths (``router.planning.query_plan``) are tuples of response keys, ``"@"`` (every list
element, nested lists flattened) and ``"... on T"`` (keep objects whose ``__typename`` is T or
one of T's possible types).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.planning.query_plan import (
    FetchRewrite,
    FieldSelection,
    InlineFragmentSelection,
    KeyRenamer,
    Selection,
    ValueSetter,
)

from .deep_merge import deep_merge

__all__ = [
    "PossibleTypes",
    "RepresentationBuilder",
    "apply_rewrites",
    "collect_objects",
    "collect_objects_with_paths",
    "project_requires",
    "type_matches",
]

PossibleTypes = Mapping[str, frozenset[str]]

_TYPE_PREFIX = "... on "


def type_matches(typename: Any, condition: str, possible: PossibleTypes) -> bool:
    if typename == condition:
        return True
    members = possible.get(condition)
    return members is not None and typename in members


def _flatten_into(value: Any, out: list[Any]) -> None:
    for item in value:
        if type(item) is list:
            _flatten_into(item, out)
        elif item is not None:
            out.append(item)


def collect_objects(root: Any, path: tuple[str, ...], possible: PossibleTypes) -> list[dict[str, Any]]:
    """Every object reached by ``path`` (no paths kept: the hot case). One pass per path
    segment: ``@`` (every list item), a type filter, or a response key."""
    current: list[Any] = [root]
    for seg in path:
        if seg == "@":
            current = _items(current)
        elif seg.startswith(_TYPE_PREFIX):
            cond = seg[7:]
            current = [v for v in current if type(v) is dict and type_matches(v.get("__typename"), cond, possible)]
        else:
            current = _values_at(current, seg)
    out: list[dict[str, Any]] = []
    for v in current:
        if type(v) is dict:
            out.append(v)
        elif type(v) is list:
            flat: list[Any] = []
            _flatten_into(v, flat)
            out.extend(o for o in flat if type(o) is dict)
    return out


def _items(current: list[Any]) -> list[Any]:
    nxt: list[Any] = []
    for v in current:
        if type(v) is list:
            _flatten_into(v, nxt)
        elif v is not None:
            nxt.append(v)
    return nxt


def _values_at(current: list[Any], key: str) -> list[Any]:
    nxt: list[Any] = []
    for v in current:
        if type(v) is dict:
            x = v.get(key)
            if x is not None:
                nxt.append(x)
        elif type(v) is list:  # a list reached without "@": the key applies to each item
            flat: list[Any] = []
            _flatten_into(v, flat)
            for item in flat:
                if type(item) is dict:
                    x = item.get(key)
                    if x is not None:
                        nxt.append(x)
    return nxt


Located = list[tuple[Any, list[str | int]]]  # (value, its concrete response path)


def collect_objects_with_paths(
    root: Any, path: tuple[str, ...], possible: PossibleTypes
) -> list[tuple[dict[str, Any], list[str | int]]]:
    """Like :func:`collect_objects` but with each object's concrete response path (real list
    indices). Only used when errors need re-pathing, so it may allocate freely."""
    current: Located = [(root, [])]
    for seg in path:
        nxt: Located = []
        if seg == "@":
            for v, p in current:
                _flatten_with_paths(v, p, nxt)
        elif seg.startswith(_TYPE_PREFIX):
            cond = seg[7:]
            nxt = [(v, p) for v, p in current if type(v) is dict and type_matches(v.get("__typename"), cond, possible)]
        else:
            nxt = _located_values_at(current, seg)
        current = nxt
    out: list[tuple[dict[str, Any], list[str | int]]] = []
    for v, p in current:
        if type(v) is dict:
            out.append((v, p))
        elif type(v) is list:
            flat: Located = []
            _flatten_with_paths(v, p, flat)
            out.extend((o, op) for o, op in flat if type(o) is dict)
    return out


def _located_values_at(current: Located, key: str) -> Located:
    nxt: Located = []
    for v, p in current:
        if type(v) is list:
            flat: Located = []
            _flatten_with_paths(v, p, flat)
            for item, ip in flat:
                if type(item) is dict and item.get(key) is not None:
                    nxt.append((item[key], [*ip, key]))
        elif type(v) is dict:
            x = v.get(key)
            if x is not None:
                nxt.append((x, [*p, key]))
    return nxt


def _flatten_with_paths(value: Any, path: list[str | int], out: list[tuple[Any, list[str | int]]]) -> None:
    if type(value) is list:
        for i, item in enumerate(value):
            if type(item) is list:
                _flatten_with_paths(item, [*path, i], out)
            elif item is not None:
                out.append((item, [*path, i]))
    elif value is not None:
        out.append((value, path))


class _Missing(Exception):
    pass


def project_requires(
    obj: dict[str, Any], selections: tuple[Selection, ...], possible: PossibleTypes
) -> dict[str, Any] | None:
    """Build the representation of ``obj`` for an entity fetch, or ``None`` when a key or
    required field is missing (an earlier fetch failed or returned a null entity): such an
    entity is skipped silently. ``__typename`` always comes first."""
    typename = obj.get("__typename")
    if typename is None:
        return None
    if not any(
        isinstance(sel, FieldSelection)
        or sel.type_condition is None
        or type_matches(typename, sel.type_condition, possible)
        for sel in selections
    ):
        return None  # no fragment applies to this object's type: nothing to send
    rep: dict[str, Any] = {"__typename": typename}
    try:
        _project_into(obj, selections, typename, rep, possible)
    except _Missing:
        return None
    return rep


def _project_into(
    obj: dict[str, Any], selections: tuple[Selection, ...], typename: Any, out: dict[str, Any], possible: PossibleTypes
) -> None:
    for sel in selections:
        if isinstance(sel, FieldSelection):
            key = sel.alias or sel.name
            if key == "__typename":
                if typename is not None:
                    out[key] = typename
                continue
            if key not in obj:
                raise _Missing
            value = obj[key]
            if value is None or not sel.selections:
                out[key] = value
            else:
                out[key] = _project_value(value, sel.selections, possible)
        else:
            cond = sel.type_condition
            if cond is None or type_matches(typename, cond, possible):
                _project_into(obj, sel.selections, typename, out, possible)


def _project_value(value: Any, selections: tuple[Selection, ...], possible: PossibleTypes) -> Any:
    if type(value) is list:
        return [None if v is None else _project_value(v, selections, possible) for v in value]
    if type(value) is dict:
        sub: dict[str, Any] = {}
        _project_into(value, selections, value.get("__typename"), sub, possible)
        return sub
    return value


def apply_rewrites(obj: dict[str, Any], rewrites: tuple[FetchRewrite, ...], possible: PossibleTypes) -> None:
    """Apply ValueSetter/KeyRenamer rewrites in place (representations or ``_entities`` items)."""
    for rw in rewrites:
        _rewrite(obj, rw.path, rw, possible)


def _rewrite(value: Any, path: tuple[str, ...], rw: FetchRewrite, possible: PossibleTypes) -> None:
    if type(value) is list:
        for item in value:
            _rewrite(item, path, rw, possible)
        return
    if type(value) is not dict or not path:
        return
    seg = path[0]
    if seg.startswith(_TYPE_PREFIX):
        if type_matches(value.get("__typename"), seg[7:], possible):
            _rewrite(value, path[1:], rw, possible)
        return
    if seg == "@":
        _rewrite(value, path[1:], rw, possible)
        return
    if len(path) == 1:
        if type(rw) is ValueSetter:
            value[seg] = rw.value
        elif type(rw) is KeyRenamer and seg in value:
            moved = value.pop(seg)
            if rw.rename_key_to in value:
                # Another selection of the same key already filled it (an aliased conflicting
                # field): merge into it, never replace it (docs/router.md §4.2).
                deep_merge(value, {rw.rename_key_to: moved})
            else:
                value[rw.rename_key_to] = moved
        return
    if seg in value:
        _rewrite(value[seg], path[1:], rw, possible)


class RepresentationBuilder:
    """Builds (representation, dedupe key) for one entity fetch's ``requires``.

    The common case, ``... on T { __typename k1 k2 }`` with flat scalar fields (keys and flat
    requires), is precompiled: the representation is copied field by field and the dedupe key
    is a tuple of the values, with no JSON encoding. Anything else goes through
    :func:`project_requires` and a canonical JSON key.
    """

    __slots__ = ("requires", "possible", "flat")

    def __init__(self, requires: tuple[Selection, ...], possible: PossibleTypes) -> None:
        self.requires = requires
        self.possible = possible
        self.flat: dict[str, tuple[str, ...]] | None = _flat_requires(requires)

    def build(self, obj: dict[str, Any]) -> tuple[dict[str, Any], Any] | None:
        flat = self.flat
        if flat is not None:
            typename = obj.get("__typename")
            keys = flat.get(typename) if typename is not None else None
            if keys is not None:
                rep: dict[str, Any] = {"__typename": typename}
                values: list[Any] = [typename]
                for k in keys:
                    if k not in obj:
                        return None
                    v = obj[k]
                    if type(v) is dict or type(v) is list:
                        break  # not a scalar after all: fall back to the general path
                    rep[k] = v
                    values.append(v)
                else:
                    return rep, tuple(values)
            elif typename is not None and not _has_abstract_condition(self.requires, self.possible):
                return None  # no fragment applies: nothing to send for this object
        general = project_requires(obj, self.requires, self.possible)
        if general is None:
            return None
        import orjson  # local: only the general path needs canonical JSON

        return general, orjson.dumps(general, option=orjson.OPT_SORT_KEYS)


def _flat_requires(requires: tuple[Selection, ...]) -> dict[str, tuple[str, ...]] | None:
    """``{type condition: field names}`` when requires is only ``... on T { scalar fields }``."""
    out: dict[str, tuple[str, ...]] = {}
    for sel in requires:
        if type(sel) is not InlineFragmentSelection or sel.type_condition is None:
            return None
        names: list[str] = []
        for inner in sel.selections:
            if type(inner) is not FieldSelection or inner.selections or inner.alias:
                return None
            if inner.name != "__typename":
                names.append(inner.name)
        if sel.type_condition in out:
            return None
        out[sel.type_condition] = tuple(names)
    return out


def _has_abstract_condition(requires: tuple[Selection, ...], possible: PossibleTypes) -> bool:
    return any(type(sel) is InlineFragmentSelection and sel.type_condition in possible for sel in requires)
