"""Directive applications against their definitions, as Apollo's composer validates each subgraph as a GraphQL
schema: each case is one subgraph and the errors (code and message) Apollo's composition (``@apollo/composition``
2.14) reports for it, recorded when the case was written; ours must report the same and nothing else.
docs/router.md §5.2 Subgraph rules."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

ALL = (
    '["@key", "@external", "@requires", "@provides", "@shareable", "@override", "@extends", "@inaccessible", "@tag", '
    '"@interfaceObject", "@composeDirective", "@authenticated", "@requiresScopes", "@policy", "@cost", "@listSize", '
    '"@context", "@fromContext"]'
)


def fed(version: str, imports: str = ALL) -> str:
    return f'extend schema @link(url: "https://specs.apollo.dev/federation/{version}", import: {imports})\n'


L = fed("v2.9")
IFACE = "type Query {{ t: I }}\ninterface I {} {{ id: ID! }}\ntype A implements I {{ id: ID! }}"


def misplaced(directive: str, location: str) -> list[str]:
    return [f'Directive "@{directive}" may not be used on {location}.']


# name -> (SDL of subgraph "a", Apollo's INVALID_GRAPHQL messages without the "[a] " prefix); [] means it composes
CASES: dict[str, tuple[str, list[str]]] = {
    "key_on_field": (
        L + 'type Query { t: T }\ntype T @key(fields: "id") { id: ID! @key(fields: "id") }',
        misplaced("key", "FIELD_DEFINITION"),
    ),
    "key_on_scalar": (L + 'scalar S @key(fields: "id")\ntype Query { t: S }', misplaced("key", "SCALAR")),
    "key_on_union": (
        L + 'union U @key(fields: "id") = A\ntype A { id: ID! }\ntype Query { t: U }',
        misplaced("key", "UNION"),
    ),
    "key_on_input": (
        L + 'input In @key(fields: "id") { id: ID! }\ntype Query { t(i: In): Int }',
        misplaced("key", "INPUT_OBJECT"),
    ),
    "key_on_enum": (L + 'enum E @key(fields: "id") { A }\ntype Query { t: E }', misplaced("key", "ENUM")),
    "external_on_argument": (
        L + "type Query { t(a: Int @external): Int }",
        misplaced("external", "ARGUMENT_DEFINITION"),
    ),
    "external_on_interface": (L + IFACE.format("@external"), misplaced("external", "INTERFACE")),
    "shareable_on_interface": (L + IFACE.format("@shareable"), misplaced("shareable", "INTERFACE")),
    "shareable_on_interface_2_2": (
        fed("v2.2", '["@shareable"]') + IFACE.format("@shareable"),
        misplaced("shareable", "INTERFACE"),
    ),
    "requires_on_type": (
        L + 'type Query { t: T }\ntype T @requires(fields: "id") { id: ID! }',
        misplaced("requires", "OBJECT"),
    ),
    "requires_on_argument": (
        L + 'type Query { t(a: Int @requires(fields: "x")): Int }',
        misplaced("requires", "ARGUMENT_DEFINITION"),
    ),
    "provides_on_argument": (
        L + 'type Query { t(a: Int @provides(fields: "x")): Int }',
        misplaced("provides", "ARGUMENT_DEFINITION"),
    ),
    "override_on_type": (
        L + 'type Query { t: T }\ntype T @override(from: "b") { id: ID! }',
        misplaced("override", "OBJECT"),
    ),
    "interface_object_on_interface": (
        L + 'type Query { t: I }\ninterface I @interfaceObject @key(fields: "id") { id: ID! }\n'
        'type A implements I @key(fields: "id") { id: ID! }',
        misplaced("interfaceObject", "INTERFACE"),
    ),
    "extends_on_field": (L + "type Query { t: Int @extends }", misplaced("extends", "FIELD_DEFINITION")),
    "inaccessible_on_schema": (
        L + "extend schema @inaccessible\ntype Query { t: Int }",
        misplaced("inaccessible", "SCHEMA"),
    ),
    "tag_on_schema": (L + 'extend schema @tag(name: "x")\ntype Query { t: Int }', []),
    "cost_on_interface": (L + IFACE.format("@cost(weight: 1)"), misplaced("cost", "INTERFACE")),
    "list_size_on_type": (
        L + "type Query { t: T }\ntype T @listSize(assumedSize: 1) { id: ID! }",
        misplaced("listSize", "OBJECT"),
    ),
    "authenticated_on_argument": (
        L + "type Query { t(a: Int @authenticated): Int }",
        misplaced("authenticated", "ARGUMENT_DEFINITION"),
    ),
    "context_on_field": (L + 'type Query { t: Int @context(name: "c") }', misplaced("context", "FIELD_DEFINITION")),
    "from_context_on_field": (
        L + 'type Query { t: Int @fromContext(field: "$c { x }") }',
        misplaced("fromContext", "FIELD_DEFINITION"),
    ),
    "fed1_key_on_field": (
        'type Query { t: T }\ntype T @key(fields: "id") { id: ID! @key(fields: "id") }',
        misplaced("key", "FIELD_DEFINITION"),
    ),
    "fed1_external_on_argument": (
        "type Query { t(a: Int @external): Int }",
        misplaced("external", "ARGUMENT_DEFINITION"),
    ),
    "own_directive_misplaced": (
        L + "directive @foo on FIELD_DEFINITION\ntype Query { t: Int }\ntype T @foo { id: ID }",
        misplaced("foo", "OBJECT"),
    ),
    "shareable_twice_before_2_2": (
        fed("v2.1", '["@shareable"]') + "type Query { t: T }\ntype T @shareable @shareable { id: ID! }",
        ['The directive "@shareable" can only be used once at this location.'],
    ),
    "shareable_on_definition_and_extension_before_2_2": (
        fed("v2.1", '["@shareable"]')
        + "type Query { t: T }\ntype T @shareable { id: ID! }\nextend type T @shareable { x: Int }",
        ['The directive "@shareable" can only be used once at this location.'],
    ),
    "shareable_on_definition_and_extension_from_2_2": (
        fed("v2.2", '["@shareable"]')
        + "type Query { t: T }\ntype T @shareable { id: ID! }\nextend type T @shareable { x: Int }",
        [],
    ),
    "external_twice": (
        L + 'type Query { t: T }\ntype T @key(fields: "id") { id: ID! x: Int @external @external '
        'y: Int @requires(fields: "x") }',
        ['The directive "@external" can only be used once at this location.'],
    ),
    "key_without_fields": (
        L + "type Query { t: T }\ntype T @key { id: ID! }",
        ['Directive "@key" argument "fields" of type "federation__FieldSet!" is required, but it was not provided.'],
    ),
    "key_without_fields_imported_type": (
        fed("v2.9", '["@key", "FieldSet"]') + "type Query { t: T }\ntype T @key { id: ID! }",
        ['Directive "@key" argument "fields" of type "FieldSet!" is required, but it was not provided.'],
    ),
    "key_unknown_argument": (
        L + 'type Query { t: T }\ntype T @key(fields: "id", foo: 1) { id: ID! }',
        ['Unknown argument "foo" on directive "@key".'],
    ),
    "override_without_from": (
        L + "type Query { t: Int @override }",
        ['Directive "@override" argument "from" of type "String!" is required, but it was not provided.'],
    ),
    "override_label_before_2_7": (
        fed("v2.6", '["@override"]') + 'type Query { t: Int @override(from: "b", label: "x") }',
        ['Unknown argument "label" on directive "@override".'],
    ),
    "fed1_key_defined_in_the_sdl": (
        "scalar _FieldSet\ndirective @key(fields: _FieldSet!) repeatable on OBJECT | INTERFACE\n"
        'type Query { t: T }\ntype T @key(fields: "id") @key(fields: "sku") { id: ID! sku: ID! }',
        [],
    ),
}


# Federation's rule for a repeatable @shareable (2.2 on): never twice on one declaration (INVALID_SHAREABLE_USAGE)
SHAREABLE_TWICE: dict[str, tuple[str, str]] = {
    "type": (
        "type Query { t: T }\ntype T @shareable @shareable { id: ID! }",
        'the same type declaration of "T"',
    ),
    "field": ("type Query { t: T }\ntype T { id: ID! @shareable @shareable }", 'field "T.id"'),
    "extension": (
        "type Query { t: T }\ntype T { id: ID! }\nextend type T @shareable @shareable { x: Int }",
        'the same type declaration of "T"',
    ),
}


@pytest.mark.parametrize("case", SHAREABLE_TWICE)
def test_shareable_twice_on_one_declaration_matches_apollo(case: str) -> None:
    body, where = SHAREABLE_TWICE[case]
    result = compose([SubgraphSource("a", "http://a/graphql", fed("v2.2", '["@shareable"]') + body)])
    assert [(e.code, e.message) for e in result.errors] == [
        (
            "INVALID_SHAREABLE_USAGE",
            f"[a] Invalid duplicate application of @shareable on {where}: @shareable is only repeatable on types so it "
            "can be used simultaneously on a type definition and its extensions, but it should not be duplicated on "
            "the same definition/extension declaration",
        )
    ]


@pytest.mark.parametrize("case", CASES)
def test_directive_usage_matches_apollo(case: str) -> None:
    sdl, expected = CASES[case]
    result = compose([SubgraphSource("a", "http://a/graphql", sdl)])
    assert [(e.code, e.message) for e in result.errors] == [("INVALID_GRAPHQL", f"[a] {m}") for m in expected]
