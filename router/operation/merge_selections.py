"""Pass 3: merge selections with the same response key (docs/router.md §3.1 Normalisation).

Fields with the same response key and the same directives merge their sub-selections;
fragments with the same type condition and directives merge too. Order of first
appearance is kept (it is the response order and the mutation order).
"""

from __future__ import annotations

from .selection_tree import Field, InlineFragment, Selection

__all__ = ["merge_selections"]


def merge_selections(selections: tuple[Selection, ...]) -> tuple[Selection, ...]:
    groups: dict[tuple[str, ...], list[Selection]] = {}
    for sel in selections:
        key: tuple[str, ...]
        if isinstance(sel, Field):
            key = ("f", sel.response_key, sel.name, sel.args_text, sel.dirs_text)
        else:
            key = ("i", sel.type_condition or "", sel.dirs_text)
        groups.setdefault(key, []).append(sel)
    out: list[Selection] = []
    for items in groups.values():
        first = items[0]
        if len(items) == 1:
            if first.selections:
                merged = merge_selections(first.selections)
                if isinstance(first, Field):
                    first = Field(first.name, first.alias, first.arguments, first.directives, merged)
                else:
                    first = InlineFragment(first.type_condition, first.directives, merged)
            out.append(first)
            continue
        subs: tuple[Selection, ...] = tuple(s for it in items for s in it.selections)
        merged = merge_selections(subs) if subs else ()
        if isinstance(first, Field):
            out.append(Field(first.name, first.alias, first.arguments, first.directives, merged))
        else:
            out.append(InlineFragment(first.type_condition, first.directives, merged))
    return tuple(out)
