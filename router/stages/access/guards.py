"""Which selections of an operation carry authorization requirements (docs/router.md §8.2).

Computed once per prepared operation: every field, inline fragment and fragment spread whose
requirement is not empty, with the response paths (response keys, no list indices) where it
appears. A requirement depends only on the node itself (a field's parent type is the innermost
type condition or the enclosing field's type), so a node in a named fragment has one requirement
however many times the fragment is spread.

A field's requirement is its own, AND its return type's, AND (when selected on an interface) the
same field and type requirement of every implementation: the router cannot know the runtime type
before fetching, so it asks for the strictest. A fragment's requirement is its type condition's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

from router.supergraph.access import Access, AccessRules

from .policies import PolicyTable

__all__ = ["Guard", "collect_guards", "denied_nodes", "scopes_of"]


@dataclass(slots=True)
class Guard:
    node: FieldNode | InlineFragmentNode | FragmentSpreadNode
    access: Access
    paths: list[tuple[str, ...]] = field(default_factory=list)


def collect_guards(
    schema: GraphQLSchema,
    rules: AccessRules,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> list[Guard]:
    """The guarded selections of ``operation`` (empty when nothing it selects is protected)."""
    root = schema.get_root_type(operation.operation)
    if root is None or rules.empty:
        return []
    walker = _Walker(schema, rules, fragments)
    walker.walk(operation.selection_set, root, (), 0)
    return list(walker.found.values())


class _Walker:
    def __init__(
        self, schema: GraphQLSchema, rules: AccessRules, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self.schema = schema
        self.rules = rules
        self.fragments = fragments
        self.found: dict[int, Guard] = {}

    def guard(self, node: Any, access: Access | None, path: tuple[str, ...]) -> None:
        if access is None or access.empty:
            return
        g = self.found.get(id(node))
        if g is None:
            g = self.found[id(node)] = Guard(node, access)
        if path not in g.paths:
            g.paths.append(path)

    def walk(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, path: tuple[str, ...], depth: int
    ) -> None:
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                self.field(sel, parent, path, depth)
                continue
            if isinstance(sel, InlineFragmentNode):
                cond = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                body: SelectionSetNode | None = sel.selection_set
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                cond = self.schema.get_type(frag.type_condition.name.value) if frag else None
                body = frag.selection_set if frag else None
            else:
                continue
            if cond is None or body is None or depth > 64:  # validation forbids cycles; this is a backstop
                continue
            if cond is not parent:
                self.guard(sel, self.rules.types.get(cond.name), path)
            self.walk(body, cond, path, depth + 1)

    def field(self, sel: FieldNode, parent: GraphQLNamedType, path: tuple[str, ...], depth: int) -> None:
        name = sel.name.value
        fields = getattr(parent, "fields", None)
        fdef = fields.get(name) if fields and not name.startswith("__") else None
        if fdef is None:
            return
        key = (*path, (sel.alias or sel.name).value)
        ret = get_named_type(fdef.type)
        self.guard(sel, _field_access(self.schema, self.rules, parent, name, ret.name), key)
        if sel.selection_set is not None:
            self.walk(sel.selection_set, ret, key, depth)


def _field_access(
    schema: GraphQLSchema, rules: AccessRules, parent: GraphQLNamedType, name: str, ret: str
) -> Access | None:
    access = rules.fields.get((parent.name, name))
    ret_access = rules.types.get(ret)
    if ret_access is not None:
        access = ret_access.both(access)
    if isinstance(parent, GraphQLInterfaceType):
        for impl in schema.get_possible_types(parent):
            for extra in (rules.types.get(impl.name), rules.fields.get((impl.name, name))):
                if extra is not None:
                    access = extra.both(access)
    return access


def scopes_of(claims: Mapping[str, Any] | None) -> frozenset[str]:
    """The caller's scopes: the ``scope`` claim (space-separated, as OAuth 2 writes it) and/or a
    ``scopes`` list."""
    if claims is None:
        return frozenset()
    out: set[str] = set()
    scope = claims.get("scope")
    if isinstance(scope, str):
        out.update(scope.split())
    scopes = claims.get("scopes")
    if isinstance(scopes, list):
        out.update(str(s) for s in scopes)
    return frozenset(out)


def _allowed(access: Access, claims: Mapping[str, Any] | None, scopes: frozenset[str], policies: PolicyTable) -> bool:
    if access.authenticated and claims is None:
        return False
    if access.scopes is not None and not any(scopes.issuperset(group) for group in access.scopes):
        return False
    return access.policies is None or any(all(policies.allows(p, claims) for p in group) for group in access.policies)


def denied_nodes(
    guards: list[Guard], claims: Mapping[str, Any] | None, policies: PolicyTable
) -> tuple[frozenset[int], list[Guard]]:
    """The ids of the guarded nodes this caller may not see, and their guards."""
    scopes = scopes_of(claims)
    verdicts: dict[Access, bool] = {}
    denied: list[Guard] = []
    for g in guards:
        ok = verdicts.get(g.access)
        if ok is None:
            ok = verdicts[g.access] = _allowed(g.access, claims, scopes, policies)
        if not ok:
            denied.append(g)
    return frozenset(id(g.node) for g in denied), denied
