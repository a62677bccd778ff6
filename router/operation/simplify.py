"""Pass 2: type-aware fragment clean-up (docs/router.md §3.1 Normalisation).

* a fragment without directives whose condition is absent or already satisfied by the
  parent type (same type, or an abstract type containing the concrete parent) is spliced
  into its parent;
* a fragment whose possible runtime types do not intersect the parent's is dropped.
"""

from __future__ import annotations

from graphql import GraphQLSchema, get_named_type, is_abstract_type, is_object_type

from .selection_tree import Field, InlineFragment, Selection

__all__ = ["simplify_fragments"]


class _Simplifier:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._possible: dict[str, frozenset[str]] = {}

    def possible(self, name: str) -> frozenset[str]:
        got = self._possible.get(name)
        if got is None:
            t = self.schema.get_type(name)
            if t is None:
                got = frozenset()
            elif is_abstract_type(t):
                got = frozenset(o.name for o in self.schema.get_possible_types(t))
            else:
                got = frozenset((name,))
            self._possible[name] = got
        return got

    def run(self, parent: str, selections: tuple[Selection, ...]) -> tuple[Selection, ...]:
        out: list[Selection] = []
        ptype = self.schema.get_type(parent)
        for sel in selections:
            if isinstance(sel, Field):
                if not sel.selections:
                    out.append(sel)
                    continue
                fdef = getattr(ptype, "fields", {}).get(sel.name) if ptype is not None else None
                if fdef is None:
                    out.append(sel)
                    continue
                child = get_named_type(fdef.type).name
                out.append(Field(sel.name, sel.alias, sel.arguments, sel.directives, self.run(child, sel.selections)))
                continue
            cond = sel.type_condition or parent
            if not (self.possible(cond) & self.possible(parent)):
                continue  # impossible fragment
            covers = cond == parent or (ptype is not None and is_object_type(ptype) and parent in self.possible(cond))
            inner_parent = parent if covers else cond
            inner = self.run(inner_parent, sel.selections)
            if covers and not sel.directives:
                out.extend(inner)
            else:
                out.append(InlineFragment(None if covers else cond, sel.directives, inner))
        return tuple(out)


def simplify_fragments(
    schema: GraphQLSchema, root_type: str, selections: tuple[Selection, ...]
) -> tuple[Selection, ...]:
    return _Simplifier(schema).run(root_type, selections)
