"""Typed model of one federated subgraph, after its federation directives are understood.

`subgraph.py` builds it from SDL; validation, merging and satisfiability read it. Types are kept as SDL
type strings (`[Int!]!`): cheap to compare, print and unwrap, because names never contain `[`, `]` or `!`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql.language import ValueNode

from router.supergraph.access import Access

from .demand import ListSizeSpec

__all__ = [
    "Argument",
    "BUILTIN_SCALARS",
    "ContextArg",
    "EnumValue",
    "FieldDef",
    "Key",
    "Subgraph",
    "SubgraphSource",
    "TypeDef",
    "is_list",
    "is_non_null",
    "named_type",
    "nullable",
]

BUILTIN_SCALARS = frozenset({"Int", "Float", "String", "Boolean", "ID"})


@dataclass(frozen=True)
class SubgraphSource:
    """One subgraph handed to `compose`: its name, routing URL and SDL text."""

    name: str
    url: str
    sdl: str


@dataclass(frozen=True)
class ContextArg:
    """An argument filled from a context (``@fromContext``): its name and type, the context (unqualified) and the
    selection text after ``$name`` (`` { currency }``)."""

    name: str
    type: str
    context: str
    selection: str


@dataclass
class Argument:
    name: str
    type: str
    default: ValueNode | None = None
    description: str | None = None
    deprecated: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # printed @composeDirective applications
    cost: int | None = None  # @cost(weight:)
    list_size: ListSizeSpec | None = None  # @listSize
    from_context: str | None = None  # @fromContext(field:)


@dataclass
class FieldDef:
    """An output field, or an input field (then `args` is empty and `default` may be set)."""

    name: str
    type: str
    args: dict[str, Argument] = field(default_factory=dict)
    description: str | None = None
    deprecated: str | None = None
    default: ValueNode | None = None
    external: bool = False
    requires: str | None = None
    provides: str | None = None
    shareable: bool = False
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    override: str | None = None
    override_label: str | None = None
    applied: list[str] = field(default_factory=list)
    access: Access | None = None  # @authenticated / @requiresScopes / @policy
    cost: int | None = None  # @cost(weight:)
    list_size: ListSizeSpec | None = None  # @listSize
    context_args: list[ContextArg] = field(default_factory=list)  # @fromContext arguments (not in `args`)
    bad_context_args: list[str] = field(default_factory=list)  # @fromContext whose field names no context
    context_defaults: list[str] = field(default_factory=list)  # @fromContext arguments with a default value
    merged_directives: list[str] = field(default_factory=list)  # printed @tag/@inaccessible/@deprecated/composed
    # Set by merge: another graph took this field over with @override(from: <this graph>).
    overridden: bool = False
    # Set by merge: overridden, but still needed here as key/requires input.
    used_overridden: bool = False


@dataclass(frozen=True)
class Key:
    fields: str
    resolvable: bool = True
    extension: bool = False


@dataclass
class EnumValue:
    name: str
    description: str | None = None
    deprecated: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)


@dataclass
class TypeDef:
    """A named type as one subgraph defines it. kind: object|interface|union|enum|input|scalar."""

    name: str
    kind: str
    description: str | None = None
    fields: dict[str, FieldDef] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, EnumValue] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    shareable: bool = False
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    interface_object: bool = False
    specified_by: str | None = None
    applied: list[str] = field(default_factory=list)
    access: Access | None = None  # @authenticated / @requiresScopes / @policy
    cost: int | None = None  # @cost(weight:)
    list_size: ListSizeSpec | None = None  # @listSize
    contexts: list[str] = field(default_factory=list)  # @context names set here
    # How the SDL declares it (EXTENSION_WITH_NO_BASE): a `type T` definition, an `extend type T`, `@extends`.
    definition: bool = True
    extension: bool = False
    extends: bool = False


@dataclass
class Subgraph:
    """One subgraph. `fed2` is False for Federation 1 SDL (no federation `@link`)."""

    name: str
    url: str
    fed2: bool
    fed_version: tuple[int, int] = (1, 0)  # the federation @link's version (1.0: Federation 1 SDL)
    types: dict[str, TypeDef] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # operation -> type name (always Query/...)
    key_field_coords: set[tuple[str, str]] = field(default_factory=set)  # (type, field) used in any key
    provided_coords: set[tuple[str, str]] = field(default_factory=set)  # (type, field) named by a @provides
    required_coords: set[tuple[str, str]] = field(default_factory=set)  # (type, field) named by a @requires
    # @composeDirective: name -> (printed definition, @link url or None, imported name or None)
    compose_directives: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)

    def type_kind(self, name: str) -> str | None:
        if name in BUILTIN_SCALARS:
            return "scalar"
        t = self.types.get(name)
        return t.kind if t else None


def named_type(type_str: str) -> str:
    return type_str.strip("[]!")


def is_non_null(type_str: str) -> bool:
    return type_str.endswith("!")


def nullable(type_str: str) -> str:
    return type_str[:-1] if type_str.endswith("!") else type_str


def is_list(type_str: str) -> bool:
    return nullable(type_str).startswith("[")
