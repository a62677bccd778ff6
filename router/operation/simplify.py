"""Pass 2: type-aware fragment clean-up (docs/router.md §3.1 Normalisation).

* a fragment without directives whose condition is absent or already satisfied by the
  parent type (same type, or an abstract type containing the concrete parent) is spliced
  into its parent;
* a fragment whose possible runtime types do not intersect the parent's is dropped, and so is one
  left empty by literal ``@skip``/``@include``;
* a composite field left with no sub-selection asks for ``__typename`` instead.
"""

from __future__ import annotations

from graphql import (
    GraphQLNamedType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    is_object_type,
)

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
                out.append(self._field(ptype, sel))
                continue
            cond = sel.type_condition or parent
            if not (self.possible(cond) & self.possible(parent)):
                continue  # impossible fragment
            covers = cond == parent or (ptype is not None and is_object_type(ptype) and parent in self.possible(cond))
            inner = self.run(parent if covers else cond, sel.selections)
            if not inner:
                continue  # every selection inside was skipped: the fragment adds nothing
            if covers and not sel.directives:
                out.extend(inner)
            else:
                out.append(InlineFragment(None if covers else cond, sel.directives, inner))
        return tuple(out)

    def _field(self, ptype: GraphQLNamedType | None, sel: Field) -> Field:
        fdef = getattr(ptype, "fields", {}).get(sel.name) if ptype is not None else None
        if fdef is None:
            return sel
        child = get_named_type(fdef.type)
        if not is_composite_type(child):
            return sel
        inner = self.run(child.name, sel.selections)
        if not inner:
            # @skip/@include removed every sub-field: a subgraph refuses an empty selection set,
            # so ask for __typename (the projection drops it; the client gets {}).
            inner = (Field("__typename"),)
        return Field(sel.name, sel.alias, sel.arguments, sel.directives, inner)


def simplify_fragments(
    schema: GraphQLSchema, root_type: str, selections: tuple[Selection, ...]
) -> tuple[Selection, ...]:
    return _Simplifier(schema).run(root_type, selections)
