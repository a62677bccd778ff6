"""``@fromContext`` arguments at execution (docs/router.md §3.16 @context and @fromContext).

The objects an entity fetch runs at are grouped by the values their ancestors hold for the fetch's context
variables; one group is one ``_entities`` selection. With several groups the operation is rewritten with one
aliased ``_entities`` per group (``_0``, ``_1`` ...), each with its own ``$representations_<i>`` and context
variables, so the subgraph is still called once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from router.planning.query_plan import ContextValue

from .paths import PossibleTypes, collect_objects

__all__ = ["aliased_operation", "group_by_context", "rename_group_errors"]


def _with_context(
    root: Any, path: tuple[str, ...], values: tuple[ContextValue, ...], possible: PossibleTypes
) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
    """Every object at ``path`` with the value of each context variable, read at its own ancestors."""
    cuts = sorted({len(v.ancestor) for v in values})
    out: list[tuple[dict[str, Any], tuple[Any, ...]]] = []

    def go(node: Any, start: int, ci: int, found: dict[int, dict[str, Any]]) -> None:
        if ci == len(cuts):
            vals = tuple(found[len(v.ancestor)].get(v.key) for v in values)
            out.extend((obj, vals) for obj in collect_objects(node, path[start:], possible))
            return
        cut = cuts[ci]
        for anc in collect_objects(node, path[start:cut], possible):
            go(anc, cut, ci + 1, {**found, cut: anc})

    go(root, 0, 0, {})
    return out


def group_by_context(
    root: Any, paths: tuple[tuple[str, ...], ...], values: tuple[ContextValue, ...], possible: PossibleTypes
) -> list[tuple[tuple[Any, ...], list[dict[str, Any]]]]:
    """``(context values, objects)`` groups in first-seen order."""
    groups: dict[str, tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}
    for path in paths:
        for obj, vals in _with_context(root, path, values, possible):
            key = json.dumps(vals, sort_keys=True, default=str)
            groups.setdefault(key, (vals, []))[1].append(obj)
    return list(groups.values())


class _Rename(Visitor):
    def __init__(self, mapping: dict[str, str]) -> None:
        super().__init__()
        self.mapping = mapping

    def enter_variable(self, node: VariableNode, *_: Any) -> VariableNode | None:
        new = self.mapping.get(node.name.value)
        return VariableNode(name=NameNode(value=new)) if new is not None else None


@lru_cache(maxsize=1024)
def aliased_operation(operation: str, groups: int, context_variables: tuple[str, ...]) -> str:
    """``operation`` (one ``_entities`` selection) with one aliased copy per group, ``$representations`` and the
    context variables renamed ``<name>_<i>`` in copy ``i``."""
    doc = parse(operation, no_location=True)
    op = doc.definitions[0]
    assert isinstance(op, OperationDefinitionNode)
    [entities] = op.selection_set.selections
    assert isinstance(entities, FieldNode)
    renamed = {"representations", *context_variables}
    defs = [d for d in op.variable_definitions or () if d.variable.name.value not in renamed]
    selections: list[FieldNode] = []
    for i in range(groups):
        mapping = {v: f"{v}_{i}" for v in renamed}
        for d in op.variable_definitions or ():
            name = d.variable.name.value
            if name in renamed:
                variable = VariableNode(name=NameNode(value=mapping[name]))
                defs.append(VariableDefinitionNode(variable=variable, type=d.type, default_value=d.default_value))
        copy = visit(entities, _Rename(mapping))
        selections.append(
            FieldNode(
                alias=NameNode(value=f"_{i}"),
                name=copy.name,
                arguments=copy.arguments,
                directives=copy.directives,
                selection_set=copy.selection_set,
            )
        )
    new_op = OperationDefinitionNode(
        operation=op.operation,
        name=op.name,
        variable_definitions=tuple(defs),
        directives=op.directives,
        selection_set=SelectionSetNode(selections=tuple(selections)),
    )
    return print_ast(DocumentNode(definitions=(new_op,)))


def rename_group_errors(errors: Any, offsets: list[int]) -> Any:
    """Subgraph error paths ``["_<i>", j, ...]`` as ``["_entities", offsets[i] + j, ...]``."""
    if not isinstance(errors, list):
        return errors
    out = []
    for err in errors:
        epath = err.get("path") if isinstance(err, dict) else None
        if isinstance(epath, list) and len(epath) >= 2 and isinstance(epath[0], str) and isinstance(epath[1], int):
            head = epath[0]
            if head.startswith("_") and head[1:].isdigit() and int(head[1:]) < len(offsets):
                err = {**err, "path": ["_entities", offsets[int(head[1:])] + epath[1], *epath[2:]]}
        out.append(err)
    return out
