"""Pass 1b: AST -> selection model, inlining named fragments and dropping literal
``@skip(if: true)`` / ``@include(if: false)`` selections (docs/router.md §3.1 Normalisation).

Variable conditions stay on the selection. The pass counts the selections it produces and
stops at ``max_selections`` so a "fragment bomb" (fragments spreading each other twice per
level) fails fast instead of growing exponentially.
"""

from __future__ import annotations

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from router.errors import ValidationFailed

from .selection_tree import Field, InlineFragment, Selection

__all__ = ["inline_selections"]


def _conditions(
    directives: tuple[DirectiveNode, ...] | list[DirectiveNode] | None,
) -> tuple[bool, tuple[DirectiveNode, ...]]:
    """(included, kept directives): literal skip/include are evaluated and removed."""
    if not directives:
        return True, ()
    kept: list[DirectiveNode] = []
    for d in directives:
        name = d.name.value
        if name in ("skip", "include"):
            arg = next((a for a in d.arguments or () if a.name.value == "if"), None)
            if arg is not None and isinstance(arg.value, BooleanValueNode):
                if arg.value.value == (name == "skip"):
                    return False, ()
                continue
        kept.append(d)
    return True, tuple(kept)


class _Inliner:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], max_selections: int) -> None:
        self.fragments = fragments
        self.budget = max_selections

    def run(self, node: SelectionSetNode | None, stack: tuple[str, ...] = ()) -> tuple[Selection, ...]:
        if node is None:
            return ()
        out: list[Selection] = []
        for sel in node.selections:
            self.budget -= 1
            if self.budget < 0:
                raise ValidationFailed(
                    "Operation is too large to plan (too many selections after inlining fragments)",
                    "PLANNING_LIMIT_EXCEEDED",
                )
            included, directives = _conditions(sel.directives)
            if not included:
                continue
            if isinstance(sel, FieldNode):
                out.append(
                    Field(
                        name=sel.name.value,
                        alias=sel.alias.value if sel.alias else None,
                        arguments=tuple(sel.arguments or ()),
                        directives=directives,
                        selections=self.run(sel.selection_set, stack),
                    )
                )
            elif isinstance(sel, InlineFragmentNode):
                out.append(
                    InlineFragment(
                        type_condition=sel.type_condition.name.value if sel.type_condition else None,
                        directives=directives,
                        selections=self.run(sel.selection_set, stack),
                    )
                )
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is None:
                    raise ValidationFailed(f"Unknown fragment '{name}'.")
                if name in stack:
                    raise ValidationFailed(f"Cannot spread fragment '{name}' within itself.")
                out.append(
                    InlineFragment(
                        type_condition=frag.type_condition.name.value,
                        directives=directives,
                        selections=self.run(frag.selection_set, (*stack, name)),
                    )
                )
        return tuple(out)


def inline_selections(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], max_selections: int
) -> tuple[Selection, ...]:
    return _Inliner(fragments, max_selections).run(selection_set)
