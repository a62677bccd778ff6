"""Directive applications checked against their definitions, as GraphQL's SDL validation does in Apollo's composer
(docs/router.md §5.2): the location (`@key` on a field, `@external` on an argument, `@shareable` on an interface),
a non-repeatable directive used twice at one place (a type's definition and extensions count as one place), an
argument the directive does not have, a required argument left out. All are `INVALID_GRAPHQL` with graphql-js's
wording, which Apollo's composer reports.

Federation directives are checked against the federation spec's definitions at the linked version (Apollo 2.14's:
`@shareable` is repeatable from 2.2, `@tag` allowed on the schema from 2.3, `@override(label:)` from 2.7); the
built-in ones against GraphQL's; directives the SDL defines against that definition. A federation directive the SDL
also defines (Fed1 libraries print them) may be used where either definition allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import print_ast
from graphql.language import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    EnumValueDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
)
from graphql.pyutils import suggestion_list

from .diagnostics import CompositionError
from .links import did_you_mean

__all__ = ["directive_usage_errors"]


@dataclass(frozen=True)
class _Spec:
    locations: frozenset[str]
    repeatable: bool
    args: dict[str, str | None]  # argument -> its type when required (None: optional); "@X" = federation type X


def _spec(locations: str, repeatable: bool = False, **args: str | None) -> _Spec:
    return _Spec(frozenset(locations.split("|")), repeatable, args)


_AUTH = "FIELD_DEFINITION|OBJECT|INTERFACE|SCALAR|ENUM"
_TAG = (
    "FIELD_DEFINITION|OBJECT|INTERFACE|UNION|ARGUMENT_DEFINITION|SCALAR|ENUM|ENUM_VALUE|INPUT_OBJECT|"
    "INPUT_FIELD_DEFINITION"
)
# Apollo 2.14's federation definitions (canonical name -> spec); version differences in `_federation_spec`.
_FEDERATION: dict[str, _Spec] = {
    "key": _spec("OBJECT|INTERFACE", True, fields="@FieldSet!", resolvable=None),
    "requires": _spec("FIELD_DEFINITION", fields="@FieldSet!"),
    "provides": _spec("FIELD_DEFINITION", fields="@FieldSet!"),
    "external": _spec("OBJECT|FIELD_DEFINITION", reason=None),
    "tag": _spec(_TAG + "|SCHEMA", True, name="String!"),
    "extends": _spec("OBJECT|INTERFACE"),
    "shareable": _spec("OBJECT|FIELD_DEFINITION", True),
    "inaccessible": _spec(_TAG),
    "override": _Spec(frozenset({"FIELD_DEFINITION"}), False, {"from": "String!", "label": None}),
    "composeDirective": _spec("SCHEMA", True, name=None),
    "interfaceObject": _spec("OBJECT"),
    "authenticated": _spec(_AUTH),
    "requiresScopes": _spec(_AUTH, scopes="[[@Scope!]!]!"),
    "policy": _spec(_AUTH, policies="[[@Policy!]!]!"),
    "context": _spec("INTERFACE|OBJECT|UNION", True, name="String!"),
    "fromContext": _spec("ARGUMENT_DEFINITION", field=None),
    "cost": _spec("ARGUMENT_DEFINITION|ENUM|FIELD_DEFINITION|INPUT_FIELD_DEFINITION|OBJECT|SCALAR", weight="Int!"),
    "listSize": _spec(
        "FIELD_DEFINITION", assumedSize=None, slicingArguments=None, sizedFields=None, requireOneSlicingArgument=None
    ),
}
_BUILT_IN: dict[str, _Spec] = {
    "deprecated": _spec("FIELD_DEFINITION|ARGUMENT_DEFINITION|INPUT_FIELD_DEFINITION|ENUM_VALUE", reason=None),
    "specifiedBy": _spec("SCALAR", url="String!"),
    "link": _Spec(frozenset({"SCHEMA"}), True, {"url": None, "as": None, "for": None, "import": None}),
}
_TYPE_LOCATIONS: dict[type, str] = {
    SchemaDefinitionNode: "SCHEMA",
    SchemaExtensionNode: "SCHEMA",
    ObjectTypeDefinitionNode: "OBJECT",
    ObjectTypeExtensionNode: "OBJECT",
    InterfaceTypeDefinitionNode: "INTERFACE",
    InterfaceTypeExtensionNode: "INTERFACE",
    UnionTypeDefinitionNode: "UNION",
    UnionTypeExtensionNode: "UNION",
    EnumTypeDefinitionNode: "ENUM",
    EnumTypeExtensionNode: "ENUM",
    ScalarTypeDefinitionNode: "SCALAR",
    ScalarTypeExtensionNode: "SCALAR",
    InputObjectTypeDefinitionNode: "INPUT_OBJECT",
    InputObjectTypeExtensionNode: "INPUT_OBJECT",
}


def _federation_spec(canon: str, fed2: bool, version: tuple[int, int]) -> _Spec:
    spec = _FEDERATION[canon]
    if canon == "shareable" and fed2 and version < (2, 2):
        return _Spec(spec.locations, False, spec.args)
    if canon == "tag" and (not fed2 or version < (2, 3)):
        return _Spec(spec.locations - {"SCHEMA"}, spec.repeatable, spec.args)
    if canon == "override" and version < (2, 7):
        return _Spec(spec.locations, spec.repeatable, {"from": "String!"})
    return spec


def directive_usage_errors(
    doc: DocumentNode,
    subgraph: str,
    *,
    canonical: Callable[[str], str | None],
    fed2: bool,
    version: tuple[int, int],
    federation_type: Callable[[str], str],
) -> list[CompositionError]:
    """`INVALID_GRAPHQL` per misused directive application, grouped by rule as graphql-js reports them.

    `canonical` maps a name as written to its federation directive (None for others); `federation_type` gives the
    name a federation type (`FieldSet`) has in this subgraph, for the wording of a missing argument's type."""
    defined = {d.name.value: d for d in doc.definitions if isinstance(d, DirectiveDefinitionNode)}

    def spec_of(name: str) -> _Spec | None:
        canon = canonical(name)
        own = defined.get(name)
        if canon in _FEDERATION:
            fed = _federation_spec(canon, fed2, version)
            if own is None:
                return fed
            return _Spec(fed.locations | _locations(own), fed.repeatable or own.repeatable, {})
        if own is not None:
            return _Spec(_locations(own), own.repeatable, _own_args(own))
        return _BUILT_IN.get(name)

    places = list(_applications(doc))
    location_errors: list[str] = []
    repeat_errors: list[str] = []
    arg_errors: list[str] = []
    required_errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    shareable_errors: list[str] = []
    for place, location, directives in places:
        shareable_errors += _duplicate_shareable(place, location, directives, canonical, fed2 and version >= (2, 2))
        for d in directives:
            name = d.name.value
            spec = spec_of(name)
            if spec is None:  # unknown directives are reported by directive_names.py
                continue
            if location not in spec.locations:
                location_errors.append(f'Directive "@{name}" may not be used on {location}.')
            if not spec.repeatable:
                seen[(place, name)] = seen.get((place, name), 0) + 1
                if seen[(place, name)] == 2:
                    repeat_errors.append(f'The directive "@{name}" can only be used once at this location.')
            if spec.args or defined.get(name) is None:
                unknown, missing = _argument_errors(name, spec, [a.name.value for a in d.arguments or ()])
                arg_errors += unknown
                required_errors += [
                    f'Directive "@{name}" argument "{arg}" of type "{_print_type(t, federation_type)}" is required, '
                    "but it was not provided."
                    for arg, t in missing
                ]
    messages = location_errors + repeat_errors + arg_errors + required_errors
    return [CompositionError("INVALID_GRAPHQL", f"[{subgraph}] {m}", subgraph) for m in messages] + [
        CompositionError("INVALID_SHAREABLE_USAGE", f"[{subgraph}] {m}", subgraph) for m in shareable_errors
    ]


def _argument_errors(name: str, spec: _Spec, given: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Unknown arguments (with graphql-js's suggestions) and the required ones not given, with their types."""
    unknown = [
        f'Unknown argument "{arg}" on directive "@{name}".{did_you_mean(suggestion_list(arg, list(spec.args)))}'
        for arg in given
        if arg not in spec.args
    ]
    return unknown, [(arg, t) for arg, t in spec.args.items() if t is not None and arg not in given]


def _duplicate_shareable(
    place: str, location: str, directives: Any, canonical: Callable[[str], str | None], repeatable: bool
) -> list[str]:
    """Federation's own rule once `@shareable` is repeatable (2.2): repeatable only so that a type's definition and
    its extensions may each carry it, never twice on one declaration."""
    if not repeatable or sum(1 for d in directives if canonical(d.name.value) == "shareable") < 2:
        return []
    what = f'field "{place}"' if location == "FIELD_DEFINITION" else f'the same type declaration of "{place}"'
    return [
        f"Invalid duplicate application of @shareable on {what}: @shareable is only repeatable on types so it can "
        "be used simultaneously on a type definition and its extensions, but it should not be duplicated on the "
        "same definition/extension declaration"
    ]


def _applications(doc: DocumentNode) -> Any:
    """`(place, location, directives)` for every directive list of the SDL, in document order. `place` identifies
    where uniqueness is counted: a type (definition and extensions together), the schema, or one element."""
    for definition in doc.definitions:
        location = _TYPE_LOCATIONS.get(type(definition))
        if isinstance(definition, DirectiveDefinitionNode):
            for arg in definition.arguments or ():
                yield f"@{definition.name.value}({arg.name.value}:)", "ARGUMENT_DEFINITION", arg.directives or ()
            continue
        if location is None:
            continue
        name_node = getattr(definition, "name", None)  # every type definition or extension has one
        place = "schema" if name_node is None else name_node.value
        yield place, location, getattr(definition, "directives", None) or ()
        for member in getattr(definition, "fields", None) or ():
            member_place = f"{place}.{member.name.value}"
            if isinstance(member, FieldDefinitionNode):
                yield member_place, "FIELD_DEFINITION", member.directives or ()
                for arg in member.arguments or ():
                    yield f"{member_place}({arg.name.value}:)", "ARGUMENT_DEFINITION", arg.directives or ()
            elif isinstance(member, InputValueDefinitionNode):
                yield member_place, "INPUT_FIELD_DEFINITION", member.directives or ()
        for value in getattr(definition, "values", None) or ():
            if isinstance(value, EnumValueDefinitionNode):
                yield f"{place}.{value.name.value}", "ENUM_VALUE", value.directives or ()


def _locations(definition: DirectiveDefinitionNode) -> frozenset[str]:
    return frozenset(loc.value for loc in definition.locations)


def _own_args(definition: DirectiveDefinitionNode) -> dict[str, str | None]:
    args: dict[str, str | None] = {}
    for arg in definition.arguments or ():
        printed = print_ast(arg.type)
        args[arg.name.value] = printed if printed.endswith("!") and arg.default_value is None else None
    return args


def _print_type(arg_type: str, federation_type: Callable[[str], str]) -> str:
    if "@" not in arg_type:
        return arg_type
    start = arg_type.index("@")
    end = start + 1
    while end < len(arg_type) and arg_type[end].isalnum():
        end += 1
    return arg_type[:start] + federation_type(arg_type[start + 1 : end]) + arg_type[end:]
