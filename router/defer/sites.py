"""Where the ``@defer`` directives of an operation sit, and which of them a request activates.

Every ``@defer`` application in the validated document gets an id, written into the directive as an
extra argument (:data:`DEFER_ID_ARG`) so the planner (which works on a normalised copy) and the
projection (which works on the AST) name the same fragment. A fragment spread used in two places
puts one site at two :class:`Location` s; both are delivered with that site's payload.

A site is active for a request when the client accepts incremental delivery, its ``if`` argument is
true (literal or variable), and it is not on the root of a mutation (validation refuses that already:
root mutation fields run once, in order). Inactive sites are planned and answered as plain fragments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql.language.visitor import REMOVE

__all__ = [
    "DEFER_ID_ARG",
    "DeferInfo",
    "DeferSite",
    "Location",
    "active_sites",
    "defer_id",
    "find_defers",
    "strip_defers",
]

#: The argument that carries a site's id on its ``@defer`` (never sent anywhere: the planner drops
#: every ``@defer`` before printing subgraph queries).
DEFER_ID_ARG = "__setrumDeferId"
_MAX_VISITS = 50_000  # selections walked while locating sites (fragment spreads repeat them)


def defer_id(node: Any) -> int | None:
    """The site id on ``node``'s ``@defer`` (an inline fragment or fragment spread), if any."""
    for d in node.directives or ():
        if d.name.value == "defer":
            return _directive_id(d)
    return None


def _directive_id(directive: DirectiveNode) -> int | None:
    for a in directive.arguments or ():
        if a.name.value == DEFER_ID_ARG and isinstance(a.value, IntValueNode):
            return int(a.value.value)
    return None


@dataclass(frozen=True, slots=True)
class Location:
    """One place a site's fragment applies: the response keys from the root to the object it
    selects on, that object's static type, the fragments between the last field and the
    ``@defer`` (their type conditions and ``@skip``/``@include`` must hold too), and the enclosing
    sites as ``(id, len(path) where it sits)``, outermost first."""

    path: tuple[str, ...]
    parent_type: str
    guards: tuple[SelectionNode, ...]
    ancestors: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class DeferSite:
    id: int
    label: str | None
    condition: bool | str  # a literal, or the name of the variable ``if`` reads
    type_condition: str | None
    selection_set: SelectionSetNode
    locations: tuple[Location, ...]


@dataclass(slots=True)
class DeferInfo:
    """The sites of one prepared operation, its planning document with the tagged ``@defer`` s still
    in it, and what the defer stage caches per active set."""

    sites: dict[int, DeferSite]
    planning_document: DocumentNode | None
    plans: dict[tuple[frozenset[str], frozenset[int]], Any] = field(default_factory=dict)
    projections: dict[frozenset[int], Any] = field(default_factory=dict)


class _Tagger(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> DirectiveNode | None:
        if node.name.value != "defer":
            return None
        self.count += 1
        tag = ArgumentNode(name=NameNode(value=DEFER_ID_ARG), value=IntValueNode(value=str(self.count)))
        return DirectiveNode(name=node.name, arguments=(*(node.arguments or ()), tag))


class _Stripper(Visitor):
    def __init__(self, keep: frozenset[int]) -> None:
        super().__init__()
        self.keep = keep

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> Any:
        if node.name.value != "defer":
            return None
        if self.keep and _directive_id(node) in self.keep:
            return None
        return REMOVE


def _mentions_defer(document: DocumentNode) -> bool:
    found = False

    class _Find(Visitor):
        def enter_directive(self, node: DirectiveNode, *_args: Any) -> Any:
            nonlocal found
            if node.name.value == "defer":
                found = True
                return self.BREAK
            return None

    visit(document, _Find())
    return found


def strip_defers(document: DocumentNode, keep: frozenset[int] = frozenset()) -> DocumentNode:
    """``document`` without the ``@defer`` s whose site is not in ``keep`` (all of them by default)."""
    result: DocumentNode = visit(document, _Stripper(keep))
    return result


def find_defers(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> tuple[DocumentNode, OperationDefinitionNode, dict[int, DeferSite]] | None:
    """``(tagged document, its operation, sites by id)``; None when the document has no ``@defer``."""
    source = document.loc.source.body if document.loc is not None else None
    if (source is not None and "defer" not in source) or not _mentions_defer(document):
        return None  # the text check spares most operations a walk of their document
    index = document.definitions.index(operation)
    tagged: DocumentNode = visit(document, _Tagger())
    tagged_op = tagged.definitions[index]
    assert isinstance(tagged_op, OperationDefinitionNode)
    fragments = {d.name.value: d for d in tagged.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.get_root_type(tagged_op.operation)
    finder = _SiteFinder(schema, fragments)
    if root is not None:
        try:
            finder.walk(tagged_op.selection_set, root, (), (), ())
        except _TooLarge:
            finder.found.clear()  # no incremental delivery for a fragment bomb: every site stays inactive
    sites: dict[int, DeferSite] = {}
    for sid, locations in finder.found.items():
        label, condition, type_condition, selection_set = finder.meta[sid]
        sites[sid] = DeferSite(sid, label, condition, type_condition, selection_set, tuple(locations))
    return tagged, tagged_op, sites


class _TooLarge(Exception):
    pass


class _SiteFinder:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.found: dict[int, list[Location]] = {}
        self.meta: dict[int, tuple[str | None, bool | str, str | None, SelectionSetNode]] = {}
        self.budget = _MAX_VISITS

    def walk(
        self,
        selection_set: SelectionSetNode,
        position: Any,
        path: tuple[str, ...],
        guards: tuple[SelectionNode, ...],
        ancestors: tuple[tuple[int, int], ...],
        lookup: Any = None,
    ) -> None:
        """``position``: the static type of the object; ``lookup``: the type whose fields the
        selections name (narrowed by a type condition)."""
        lookup = lookup or position
        for sel in selection_set.selections:
            self.budget -= 1
            if self.budget < 0:
                raise _TooLarge
            if isinstance(sel, FieldNode):
                if sel.selection_set is None or not isinstance(lookup, (GraphQLObjectType, GraphQLInterfaceType)):
                    continue
                if sel.name.value in ("__schema", "__type"):
                    continue  # introspection is answered whole, locally: nothing to defer there
                fdef = lookup.fields.get(sel.name.value)
                if fdef is None:
                    continue
                key = sel.alias.value if sel.alias else sel.name.value
                self.walk(sel.selection_set, get_named_type(fdef.type), (*path, key), (), ancestors)
                continue
            if isinstance(sel, InlineFragmentNode):
                inner, condition = sel.selection_set, sel.type_condition.name.value if sel.type_condition else None
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is None:
                    continue
                inner, condition = frag.selection_set, frag.type_condition.name.value
            else:
                continue
            narrowed = self.schema.get_type(condition) if condition else lookup
            sid = defer_id(sel)
            if sid is None:
                self.walk(inner, position, path, (*guards, sel), ancestors, narrowed)
                continue
            self.found.setdefault(sid, []).append(Location(path, position.name, guards, ancestors))
            self.meta.setdefault(sid, (*_arguments(sel), condition, inner))
            self.walk(inner, position, path, (), (*ancestors, (sid, len(path))), narrowed)


def _arguments(node: Any) -> tuple[str | None, bool | str]:
    label: str | None = None
    condition: bool | str = True
    for d in node.directives or ():
        if d.name.value != "defer":
            continue
        for a in d.arguments or ():
            if a.name.value == "label" and isinstance(a.value, StringValueNode):
                label = a.value.value
            elif a.name.value == "if":
                if isinstance(a.value, BooleanValueNode):
                    condition = a.value.value
                elif isinstance(a.value, VariableNode):
                    condition = a.value.name.value
    return label, condition


def active_sites(
    sites: Mapping[int, DeferSite], conditions: Mapping[str, Any], *, incremental: bool, kind: str
) -> frozenset[int]:
    """The sites this request defers (see the module docstring)."""
    if not incremental or not sites or kind not in ("query", "mutation"):
        return frozenset()
    out: set[int] = set()
    for site in sites.values():
        c = site.condition
        if c is False or (isinstance(c, str) and conditions.get(c) is False):
            continue
        if kind == "mutation" and any(not loc.path for loc in site.locations):
            continue
        out.add(site.id)
    return frozenset(out)
