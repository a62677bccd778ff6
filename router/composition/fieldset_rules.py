"""Federation field sets (`@key(fields:)`, `@requires`, `@provides`): parse and walk them against a subgraph.

A field set is a selection set without its braces. We parse it with graphql-core and check each selection
against the subgraph's own types, reporting the rule the caller names (KEY_INVALID_FIELDS, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import GraphQLSyntaxError, parse, print_ast
from graphql.language import (
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from .subgraph_model import Subgraph, named_type

__all__ = ["FieldSetProblem", "SelectedField", "field_set_directives", "parse_field_set", "walk_field_set"]


def parse_field_set(text: str) -> SelectionSetNode:
    """Parse `a b { c }` into a selection set; raises GraphQLSyntaxError on bad syntax."""
    doc = parse("{" + text + "}", no_location=True)
    op = doc.definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    return op.selection_set


def field_set_directives(text: str) -> list[str]:
    """Every directive application inside a field set, printed (`@include(if: true)`): federation forbids them
    (``*_DIRECTIVE_IN_FIELDS_ARG``), a field set says which data, never when."""
    try:
        selection_set = parse_field_set(text)
    except GraphQLSyntaxError:
        return []
    found: list[str] = []
    stack = [selection_set]
    while stack:
        for sel in stack.pop().selections:
            found += [print_ast(d) for d in getattr(sel, "directives", None) or ()]
            inner = getattr(sel, "selection_set", None)
            if inner is not None:
                stack.append(inner)
    return found


@dataclass(frozen=True)
class SelectedField:
    """A field reached while walking a field set: its parent type, name, type string, depth and args."""

    parent: str
    name: str
    type: str
    depth: int
    has_args: bool
    missing_required: tuple[str, ...] = ()  # required arguments (non-null, no default) the selection leaves out


@dataclass(frozen=True)
class FieldSetProblem:
    message: str


def walk_field_set(subgraph: Subgraph, type_name: str, text: str) -> tuple[list[SelectedField], list[FieldSetProblem]]:
    """Resolve every selection of a field set on `type_name` inside `subgraph`.

    Returns the fields found and the problems (syntax, unknown field/type, missing or extra sub-selection).
    """
    try:
        selection_set = parse_field_set(text)
    except GraphQLSyntaxError as exc:
        return [], [FieldSetProblem(f'invalid field set "{text}": {exc.message}')]
    found: list[SelectedField] = []
    problems: list[FieldSetProblem] = []
    for item in _walk(subgraph, type_name, selection_set, 0, problems):
        found.append(item)
    return found, problems


def _walk(
    subgraph: Subgraph, type_name: str, selection_set: SelectionSetNode, depth: int, problems: list[FieldSetProblem]
) -> Iterator[SelectedField]:
    parent = subgraph.types.get(type_name)
    for sel in selection_set.selections:
        if isinstance(sel, InlineFragmentNode):
            cond = sel.type_condition.name.value if sel.type_condition else type_name
            if cond not in subgraph.types:
                problems.append(FieldSetProblem(f'unknown type "{cond}" in type condition'))
                continue
            yield from _walk(subgraph, cond, sel.selection_set, depth, problems)
            continue
        if not isinstance(sel, FieldNode):
            problems.append(FieldSetProblem("fragment spreads are not allowed in field sets"))
            continue
        name = sel.name.value
        if name == "__typename":
            continue
        if parent is None or parent.kind not in ("object", "interface"):
            problems.append(FieldSetProblem(f'cannot select "{name}" on non-object type "{type_name}"'))
            continue
        fdef = parent.fields.get(name)
        if fdef is None:
            problems.append(FieldSetProblem(f'cannot query field "{name}" on type "{type_name}" (no such field)'))
            continue
        given = {a.name.value for a in sel.arguments or ()}
        missing = tuple(
            an for an, a in fdef.args.items() if a.type.endswith("!") and a.default is None and an not in given
        )
        yield SelectedField(type_name, name, fdef.type, depth, bool(sel.arguments) or bool(fdef.args), missing)
        target = named_type(fdef.type)
        kind = subgraph.type_kind(target)
        if kind in ("object", "interface", "union"):
            if sel.selection_set is None:
                problems.append(
                    FieldSetProblem(f'field "{type_name}.{name}" of composite type "{target}" needs a selection')
                )
            else:
                yield from _walk(subgraph, target, sel.selection_set, depth + 1, problems)
        elif sel.selection_set is not None:
            problems.append(FieldSetProblem(f'leaf field "{type_name}.{name}" cannot have a selection'))
