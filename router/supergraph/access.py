"""Authorization requirements: ``@authenticated``, ``@requiresScopes`` and ``@policy``
(docs/router.md §8 Authorization).

An :class:`Access` is what one field or type demands of the caller. Scopes and policies are written as
an OR of AND groups (``[["a", "b"], ["c"]]``: a and b, or c). Requirements from several places (the
field and its return type, or the same field in several subgraphs) are combined with AND:
:meth:`Access.both` multiplies the groups out (``[[a], [b]]`` AND ``[[c]]`` = ``[[a, c], [b, c]]``), as
Apollo's composition does. Composition reads them from subgraph SDL; :func:`read_access` reads them
back from a supergraph through its feature table (the directive names follow ``@link(as:)``/``import``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import DirectiveNode, DocumentNode, TypeDefinitionNode, TypeExtensionNode
from graphql.utilities import value_from_ast_untyped

from .links import FeatureTable

__all__ = ["Access", "AccessRules", "Groups", "and_groups", "read_access"]

#: OR of AND groups; each group sorted, the groups sorted, no group a superset of another.
Groups = tuple[tuple[str, ...], ...]

# The specs a supergraph links for these directives (all ``for: SECURITY``).
SPEC_URLS = {
    "authenticated": "https://specs.apollo.dev/authenticated/v0.1",
    "requiresScopes": "https://specs.apollo.dev/requiresScopes/v0.1",
    "policy": "https://specs.apollo.dev/policy/v0.1",
}


def _normal(groups: Iterable[Iterable[str]]) -> Groups:
    """Each group sorted without repeats, the groups sorted (Apollo's composition prints them so); a
    group that contains another is dropped (absorption: a OR (a AND b) is a)."""
    sets = {frozenset(g) for g in groups}
    return tuple(sorted(tuple(sorted(s)) for s in sets if not any(o < s for o in sets)))


def and_groups(a: Groups | None, b: Groups | None) -> Groups | None:
    """``a AND b`` for two OR-of-AND requirements; ``None`` means "no requirement"."""
    if a is None:
        return b
    if b is None:
        return a
    return _normal((*x, *y) for x in a for y in b)


@dataclass(frozen=True, slots=True)
class Access:
    authenticated: bool = False
    scopes: Groups | None = None
    policies: Groups | None = None

    @classmethod
    def of(
        cls,
        authenticated: bool = False,
        scopes: Iterable[Iterable[str]] | None = None,
        policies: Iterable[Iterable[str]] | None = None,
    ) -> Access:
        return cls(
            authenticated,
            None if scopes is None else _normal(scopes),
            None if policies is None else _normal(policies),
        )

    def both(self, other: Access | None) -> Access:
        if other is None or other.empty:
            return self
        if self.empty:
            return other
        return Access(
            self.authenticated or other.authenticated,
            and_groups(self.scopes, other.scopes),
            and_groups(self.policies, other.policies),
        )

    @property
    def empty(self) -> bool:
        return not self.authenticated and self.scopes is None and self.policies is None

    def policy_names(self) -> set[str]:
        return {p for group in self.policies or () for p in group}


@dataclass
class AccessRules:
    """Requirements by type name and by (type, field), read once per supergraph."""

    types: dict[str, Access] = field(default_factory=dict)
    fields: dict[tuple[str, str], Access] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.types and not self.fields

    def policy_names(self) -> set[str]:
        names: set[str] = set()
        for access in (*self.types.values(), *self.fields.values()):
            names |= access.policy_names()
        return names


class _SpecDirectives:
    def __init__(self, features: FeatureTable) -> None:
        self.names: dict[str, str] = {}
        for spec in SPEC_URLS:
            feature = features.get(spec)
            if feature is not None:
                self.names[feature.directive(spec)] = spec

    def access(self, directives: Iterable[DirectiveNode] | None) -> Access | None:
        found: Access | None = None
        for d in directives or ():
            spec = self.names.get(d.name.value)
            if spec is None:
                continue
            args: dict[str, Any] = {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}
            if spec == "authenticated":
                one = Access(authenticated=True)
            elif spec == "requiresScopes":
                one = Access.of(scopes=_groups(args.get("scopes")))
            else:
                one = Access.of(policies=_groups(args.get("policies")))
            found = one if found is None else found.both(one)
        return found


def _groups(value: Any) -> list[list[str]]:
    if not isinstance(value, list):
        return []
    return [[str(x) for x in g] if isinstance(g, list) else [str(g)] for g in value]


def read_access(document: DocumentNode, features: FeatureTable) -> AccessRules:
    """The authorization requirements a supergraph declares (empty when it links none of the specs)."""
    names = _SpecDirectives(features)
    rules = AccessRules()
    if not names.names:
        return rules
    for node in document.definitions:
        if not isinstance(node, (TypeDefinitionNode, TypeExtensionNode)):
            continue
        tname = node.name.value
        access = names.access(node.directives)
        if access is not None:
            rules.types[tname] = access.both(rules.types.get(tname))
        for fnode in getattr(node, "fields", None) or ():
            faccess = names.access(fnode.directives)
            if faccess is not None:
                key = (tname, fnode.name.value)
                rules.fields[key] = faccess.both(rules.fields.get(key))
    return rules
