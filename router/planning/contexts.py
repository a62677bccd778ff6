"""``@context`` / ``@fromContext`` helpers for the walker (docs/router.md §3.16 @context and @fromContext).

A field with context arguments is always fetched by its own entity fetch into its graph (like a ``@requires``
field); the context selection is planned as a hidden selection, under an internal alias, on the nearest
ancestor whose type sets the context, and the fetch receives the value through a variable the executor
fills per representation (``query_plan.ContextValue``).
"""

from __future__ import annotations

from graphql import ArgumentNode, NameNode, VariableNode

from ..operation.selection_tree import Field, InlineFragment, Selection
from ..supergraph.model import FieldInGraph, Supergraph

__all__ = ["aliased", "needs_own_fetch", "sets_context", "with_context_argument"]


def needs_own_fetch(fig: FieldInGraph | None) -> bool:
    """A ``@requires`` or ``@fromContext`` field: always an entity fetch, even into the same graph."""
    return fig is not None and bool(fig.requires or fig.context_arguments)


def sets_context(sg: Supergraph, type_name: str, context: str) -> bool:
    """Does an object of ``type_name`` set ``context`` (the type itself, or, for an abstract type, every
    type it may be)?"""
    t = sg.types.get(type_name)
    if t is not None and context in t.contexts:
        return True
    if sg.is_abstract(type_name):
        possible = sg.super_possible_types(type_name)
        return bool(possible) and all(context in getattr(sg.types.get(x), "contexts", ()) for x in possible)
    return False


def aliased(selections: tuple[Selection, ...], alias: str) -> tuple[Selection, ...]:
    """The context selection with its (one) field under ``alias`` in every type condition, so the value is found
    under one key whatever the ancestor's runtime type."""
    out: list[Selection] = []
    for s in selections:
        if isinstance(s, InlineFragment):
            out.append(InlineFragment(s.type_condition, s.directives, aliased(s.selections, alias)))
        else:
            out.append(Field(s.name, alias, s.arguments, s.directives, s.selections))
    return tuple(out)


def with_context_argument(f: Field, name: str, variable: str) -> Field:
    """``f`` with argument ``name: $variable`` added (the argument is not in the client's operation)."""
    arg = ArgumentNode(name=NameNode(value=name), value=VariableNode(name=NameNode(value=variable)))
    return Field(f.name, f.alias, (*f.arguments, arg), f.directives, f.selections)
