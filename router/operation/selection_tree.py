"""The normalised operation: what the planner walks.

Plain slotted classes (not graphql-core AST) so the planner reads ``response_key``,
``arguments`` and ``conditions`` without re-deriving them. Arguments stay graphql-core
``ValueNode``s; the subgraph query printer prints them back verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    DirectiveNode,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    print_ast,
)

__all__ = [
    "Field",
    "InlineFragment",
    "Selection",
    "NormalizedOperation",
    "arguments_text",
    "directives_text",
    "variables_of",
]


def arguments_text(arguments: tuple[ArgumentNode, ...]) -> str:
    if not arguments:
        return ""
    return "(" + ", ".join(f"{a.name.value}: {print_ast(a.value)}" for a in arguments) + ")"


def _collect_vars(value: ValueNode, out: set[str]) -> None:
    if isinstance(value, VariableNode):
        out.add(value.name.value)
    elif isinstance(value, ListValueNode):
        for v in value.values:
            _collect_vars(v, out)
    elif isinstance(value, ObjectValueNode):
        for f in value.fields:
            _collect_vars(f.value, out)


def variables_of(arguments: tuple[ArgumentNode, ...], directives: tuple[DirectiveNode, ...] = ()) -> frozenset[str]:
    out: set[str] = set()
    for a in arguments:
        _collect_vars(a.value, out)
    for d in directives:
        for a in d.arguments or ():
            _collect_vars(a.value, out)
    return frozenset(out)


def directives_text(directives: tuple[DirectiveNode, ...]) -> str:
    return "".join(" " + print_ast(d) for d in directives)


@dataclass(slots=True, eq=False)
class Field:
    name: str
    alias: str | None = None
    arguments: tuple[ArgumentNode, ...] = ()
    #: Only variable ``@skip``/``@include`` (literal ones are evaluated away) plus any other
    #: executable directive the client sent; printed into subgraph queries as they are.
    directives: tuple[DirectiveNode, ...] = ()
    selections: tuple[Selection, ...] = ()
    args_text: str = field(default="", init=False)
    dirs_text: str = field(default="", init=False)
    variables: frozenset[str] = field(default=frozenset(), init=False)

    def __post_init__(self) -> None:
        self.args_text = arguments_text(self.arguments)
        self.dirs_text = directives_text(self.directives)
        self.variables = (
            variables_of(self.arguments, self.directives) if (self.arguments or self.directives) else frozenset()
        )

    @property
    def response_key(self) -> str:
        return self.alias or self.name


@dataclass(slots=True, eq=False)
class InlineFragment:
    type_condition: str | None
    directives: tuple[DirectiveNode, ...] = ()
    selections: tuple[Selection, ...] = ()
    dirs_text: str = field(default="", init=False)
    variables: frozenset[str] = field(default=frozenset(), init=False)

    def __post_init__(self) -> None:
        self.dirs_text = directives_text(self.directives)
        self.variables = variables_of((), self.directives) if self.directives else frozenset()


Selection = Field | InlineFragment


@dataclass(slots=True)
class NormalizedOperation:
    kind: str  # "query" | "mutation" | "subscription"
    name: str | None
    root_type: str
    variable_definitions: tuple[VariableDefinitionNode, ...]
    selections: tuple[Selection, ...]
