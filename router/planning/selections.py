"""Mutable selection sets a fetch step builds up, and their rendering to query text.

Items are keyed by (response key, directives) so helper fields (keys, ``__typename``,
requires inputs) added by several paths collapse into one. Two different fields under one
response key are a *conflict*: :meth:`OSet.field` returns ``None`` and the caller aliases.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..operation.selection_tree import Field, Selection
from . import query_plan as p

__all__ = ["OField", "OFragment", "OSet", "OItem"]


class OField:
    __slots__ = ("name", "alias", "args_text", "dirs_text", "sub")

    def __init__(self, name: str, alias: str | None, args_text: str, dirs_text: str, composite: bool) -> None:
        self.name = name
        self.alias = alias
        self.args_text = args_text
        self.dirs_text = dirs_text
        self.sub: OSet | None = OSet() if composite else None

    @property
    def response_key(self) -> str:
        return self.alias or self.name


class OFragment:
    __slots__ = ("type_condition", "dirs_text", "sub")

    def __init__(self, type_condition: str | None, dirs_text: str) -> None:
        self.type_condition = type_condition
        self.dirs_text = dirs_text
        self.sub = OSet()


OItem = OField | OFragment


class OSet:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[tuple[str, ...], OItem] = {}

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[OItem]:
        return iter(self.items.values())

    def field(
        self, name: str, alias: str | None = None, args_text: str = "", dirs_text: str = "", composite: bool = False
    ) -> OField | None:
        rk = alias or name
        key = ("f", rk, dirs_text)
        got = self.items.get(key)
        if got is not None:
            assert isinstance(got, OField)
            if got.name != name or got.args_text != args_text:
                return None
            if composite and got.sub is None:
                got.sub = OSet()
            return got
        # Same response key under other directives must still be the same field.
        for k, item in self.items.items():
            if (
                k[0] == "f"
                and k[1] == rk
                and isinstance(item, OField)
                and (item.name != name or item.args_text != args_text)
            ):
                return None
        new = OField(name, alias, args_text, dirs_text, composite)
        self.items[key] = new
        return new

    def has_key(self, response_key: str) -> OField | None:
        for k, item in self.items.items():
            if isinstance(item, OField) and k[1] == response_key:
                return item
        return None

    def used_otherwise(self, name: str, args_text: str) -> bool:
        """True when a field here, or in one of the fragments here, answers under the response key ``name``
        with another field or other arguments: an unaliased ``name(args_text)`` sent beside it would not merge
        (the rule :meth:`field` and :meth:`can_merge` apply, across fragments)."""
        for item in self.items.values():
            if isinstance(item, OFragment):
                if item.sub.used_otherwise(name, args_text):
                    return True
            elif item.response_key == name and (item.name != name or item.args_text != args_text):
                return True
        return False

    def fragment(self, type_condition: str | None, dirs_text: str = "") -> OFragment:
        key = ("i", type_condition or "", dirs_text)
        got = self.items.get(key)
        if got is None:
            got = OFragment(type_condition, dirs_text)
            self.items[key] = got
        assert isinstance(got, OFragment)
        return got

    def typename(self) -> None:
        self.field("__typename")

    def add_selections(self, selections: tuple[Selection, ...]) -> bool:
        """Copy a field set (key) in; False on a response-key conflict."""
        for sel in selections:
            if isinstance(sel, Field):
                f = self.field(sel.name, sel.alias, sel.args_text, sel.dirs_text, bool(sel.selections))
                if f is None:
                    return False
                if sel.selections and f.sub is not None and not f.sub.add_selections(sel.selections):
                    return False
            else:
                frag = self.fragment(sel.type_condition, sel.dirs_text)
                if not frag.sub.add_selections(sel.selections):
                    return False
        return True

    # -- merging ---------------------------------------------------------------------
    def can_merge(self, other: OSet) -> bool:
        for key, item in other.items.items():
            if isinstance(item, OField):
                mine = self.has_key(item.response_key)
                if mine is None:
                    continue
                if mine.name != item.name or mine.args_text != item.args_text:
                    return False
                if mine.sub is not None and item.sub is not None and not mine.sub.can_merge(item.sub):
                    return False
            else:
                mine_f = self.items.get(key)
                if isinstance(mine_f, OFragment) and not mine_f.sub.can_merge(item.sub):
                    return False
        return True

    def merge(self, other: OSet) -> None:
        for key, item in other.items.items():
            mine = self.items.get(key)
            if mine is None:
                self.items[key] = item
            elif isinstance(item, OField):
                assert isinstance(mine, OField)
                if item.sub is not None:
                    if mine.sub is None:
                        mine.sub = item.sub
                    else:
                        mine.sub.merge(item.sub)
            else:
                assert isinstance(mine, OFragment)
                mine.sub.merge(item.sub)

    def canonical(self) -> str:
        """The selection as text with items in sorted order: equal for equal selections."""
        return self._text(ordered=True)

    # -- output ----------------------------------------------------------------------
    def render(self) -> str:
        return self._text(ordered=False)

    def _text(self, *, ordered: bool) -> str:
        """The selection as GraphQL text; ``ordered`` sorts the items at every level (:meth:`canonical`)."""
        parts: list[str] = []
        for item in self.items.values():
            if isinstance(item, OField):
                s = f"{item.alias}: {item.name}" if item.alias else item.name
                s += item.args_text + item.dirs_text
                if item.sub is not None:
                    s += " " + item.sub._text(ordered=ordered)
            else:
                s = "..." + (f" on {item.type_condition}" if item.type_condition else "") + item.dirs_text
                s += " " + item.sub._text(ordered=ordered)
            parts.append(s)
        return "{ " + " ".join(sorted(parts) if ordered else parts) + " }"

    def to_requires(self) -> tuple[p.Selection, ...]:
        out: list[p.Selection] = []
        for item in self.items.values():
            if isinstance(item, OField):
                out.append(
                    p.FieldSelection(
                        name=item.name,
                        alias=item.alias,
                        selections=item.sub.to_requires() if item.sub is not None else (),
                    )
                )
            else:
                out.append(p.InlineFragmentSelection(item.type_condition, item.sub.to_requires()))
        return tuple(out)
