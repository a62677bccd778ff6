"""Parse ``join__FieldSet`` strings (keys, ``requires``, ``provides``) into selections.

Field sets are parsed once at load time into the same selection model the planner uses for
client operations, so a ``@requires`` is planned exactly like a hidden client selection.
"""

from __future__ import annotations

from functools import lru_cache

from graphql import (
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

from router.errors import SupergraphError

from ..operation.selection_tree import Field, InlineFragment, Selection

__all__ = ["parse_field_set", "convert_selection_set"]


def convert_selection_set(node: SelectionSetNode | None) -> tuple[Selection, ...]:
    if node is None:
        return ()
    out: list[Selection] = []
    for sel in node.selections:
        if isinstance(sel, FieldNode):
            out.append(
                Field(
                    name=sel.name.value,
                    alias=sel.alias.value if sel.alias else None,
                    arguments=tuple(sel.arguments or ()),
                    directives=tuple(sel.directives or ()),
                    selections=convert_selection_set(sel.selection_set),
                )
            )
        elif isinstance(sel, InlineFragmentNode):
            out.append(
                InlineFragment(
                    type_condition=sel.type_condition.name.value if sel.type_condition else None,
                    directives=tuple(sel.directives or ()),
                    selections=convert_selection_set(sel.selection_set),
                )
            )
        else:  # fragment spreads are not allowed in field sets
            raise SupergraphError("Fragment spreads are not allowed in a field set")
    return tuple(out)


@lru_cache(maxsize=4096)
def parse_field_set(text: str) -> tuple[Selection, ...]:
    try:
        doc = parse("{" + text + "}", no_location=True)
    except GraphQLError as exc:
        raise SupergraphError(f"Invalid field set {text!r}: {exc.message}") from None
    op = doc.definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    return convert_selection_set(op.selection_set)
