"""INVALID_FIELD_SHARING against Apollo's composer: each case is a small subgraph set and the error codes Apollo's
composition (``@apollo/composition`` 2.14) reports for it, recorded when the case was written; ours must report the
same codes (``[]``: it composes). docs/router.md §5.3 Merge rules.

A field counts as resolved by every graph that defines it, except where it is ``@external`` and not provided, or
overridden away. It is shareable in a graph when ``@shareable`` (on the field, or on the type definition or extension
that declares it), a key field, or an ``@external`` field that graph provides. ``@provides`` does not make the field
shareable in its owner: a provided field must be ``@shareable`` wherever it is resolved for good.
"""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

FED2 = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", '
    '"@external", "@requires", "@provides", "@override", "@interfaceObject"])\n'
)
PROVIDER = (  # fed2: reviews provide the author's name
    FED2 + 'type Query { r: R }\ntype R @key(fields: "id") { id: ID! u: U @provides(fields: "name") }\n'
    'type U @key(fields: "id") { id: ID! name: String @external }'
)
ITF_A = FED2 + 'type Query { n: Node }\ninterface Node @key(fields: "id") { id: ID! }\n'
ITF_OBJECT = FED2 + 'type Node @key(fields: "id") @interfaceObject { id: ID! x: Int }'
SHARING = ["INVALID_FIELD_SHARING"]

# name -> (subgraph name -> full SDL, Apollo's error codes)
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    # @provides: the owner must mark the provided field shareable (tests/fixtures/subgraph_sets/provides does).
    "provides_owner_not_shareable": (
        {"a": PROVIDER, "b": FED2 + 'type U @key(fields: "id") { id: ID! name: String }'},
        SHARING,
    ),
    "provides_owner_shareable": (
        {"a": PROVIDER, "b": FED2 + 'type U @key(fields: "id") { id: ID! name: String @shareable }'},
        [],
    ),
    "provides_through_fragment_owner_not_shareable": (
        {
            "a": FED2 + 'type Query { s: [M] @provides(fields: "... on B { t }") }\nunion M = B\n'
            'type B @key(fields: "id") { id: ID! t: String @external }',
            "b": FED2 + 'type B @key(fields: "id") { id: ID! t: String }',
        },
        SHARING,
    ),
    "provides_nested_value_not_shareable": (
        {
            "a": FED2
            + 'type Query { r: R }\ntype R @key(fields: "id") { id: ID! u: U @provides(fields: "org { name }") }'
            '\ntype U @key(fields: "id") { id: ID! org: Org @external }\ntype Org { name: String @external }',
            "b": FED2 + 'type U @key(fields: "id") { id: ID! org: Org @shareable }\ntype Org { name: String }',
        },
        SHARING,
    ),
    "provides_nested_value_shareable": (
        {
            "a": FED2
            + 'type Query { r: R }\ntype R @key(fields: "id") { id: ID! u: U @provides(fields: "org { name }") }'
            '\ntype U @key(fields: "id") { id: ID! org: Org @external }\ntype Org { name: String @external }',
            "b": FED2
            + 'type U @key(fields: "id") { id: ID! org: Org @shareable }\ntype Org @shareable { name: String }',
        },
        [],
    ),
    # A key field in the owner is shareable there.
    "provides_owner_key_field": (
        {"a": PROVIDER, "b": FED2 + 'type U @key(fields: "id") @key(fields: "name") { id: ID! name: String }'},
        [],
    ),
    # Fed1 subgraphs are upgraded: a field another graph resolves (even only through @provides) becomes shareable.
    "provides_fed1_owner": (
        {"a": PROVIDER, "b": 'type U @key(fields: "id") { id: ID! name: String }'},
        [],
    ),
    "provides_fed1_provider_fed2_owner": (
        {
            "a": 'type Query { r: R }\ntype R @key(fields: "id") { id: ID! u: U @provides(fields: "name") }\n'
            'extend type U @key(fields: "id") { id: ID! @external name: String @external }',
            "b": FED2 + 'type U @key(fields: "id") { id: ID! name: String }',
        },
        SHARING,
    ),
    "fed1_and_fed2_not_shareable": (
        {
            "a": 'type Query { u: U }\ntype U @key(fields: "id") { id: ID! name: String }',
            "b": FED2 + 'type U @key(fields: "id") { id: ID! name: String }',
        },
        SHARING,
    ),
    "fed1_value_type_and_fed2_shareable": (
        {
            "a": "type Query { v: V }\ntype V { x: Int }",
            "b": FED2 + "type Query { w: V }\ntype V @shareable { x: Int }",
        },
        [],
    ),
    # Keys: a field is shareable only in the graphs whose keys name it; nested key fields count.
    "key_field_in_one_graph_only": (
        {
            "a": FED2
            + 'type Query { u: U }\ntype U @key(fields: "id") @key(fields: "email") { id: ID! email: String }',
            "b": FED2 + 'type U @key(fields: "id") { id: ID! email: String }',
        },
        SHARING,
    ),
    "nested_key_fields": (
        {
            "a": FED2
            + 'type Query { u: U }\ntype U @key(fields: "org { id }") { org: Org! n: Int }\ntype Org { id: ID! }',
            "b": FED2 + 'type U @key(fields: "org { id }") { org: Org! m: Int }\ntype Org { id: ID! }',
        },
        [],
    ),
    # @override takes the field away from its source; a third graph still collides.
    "override_source": (
        {
            "a": FED2 + 'type Query { u: U }\ntype U @key(fields: "id") { id: ID! n: Int @override(from: "b") }',
            "b": FED2 + 'type U @key(fields: "id") { id: ID! n: Int }',
        },
        [],
    ),
    "override_third_graph": (
        {
            "a": FED2 + 'type Query { u: U }\ntype U @key(fields: "id") { id: ID! n: Int @override(from: "b") }',
            "b": FED2 + 'type U @key(fields: "id") { id: ID! n: Int }',
            "c": FED2 + 'type U @key(fields: "id") { id: ID! n: Int }',
        },
        SHARING,
    ),
    "external_for_requires_only": (
        {
            "a": FED2
            + 'type Query { u: U }\ntype U @key(fields: "id") { id: ID! n: Int @external m: Int @requires(fields: "n") }',
            "b": FED2 + 'type U @key(fields: "id") { id: ID! n: Int }',
        },
        [],
    ),
    "mutation_field_in_two_graphs": (
        {
            "a": FED2 + "type Query { x: Int }\ntype Mutation { m: Int }",
            "b": FED2 + "type Mutation { m: Int }",
        },
        SHARING,
    ),
    # @interfaceObject: its field is resolved for every implementation (we used to count it shareable always).
    "interface_object_and_implementation_not_shareable": (
        {"a": ITF_A + 'type A implements Node @key(fields: "id") { id: ID! x: Int }', "b": ITF_OBJECT},
        SHARING,
    ),
    "interface_object_shareable_implementation_not": (
        {
            "a": ITF_A + 'type A implements Node @key(fields: "id") { id: ID! x: Int }',
            "b": FED2 + 'type Node @key(fields: "id") @interfaceObject { id: ID! x: Int @shareable }',
        },
        SHARING,
    ),
    "interface_object_and_implementation_shareable": (
        {
            "a": ITF_A + 'type A implements Node @key(fields: "id") { id: ID! x: Int @shareable }',
            "b": FED2 + 'type Node @key(fields: "id") @interfaceObject @shareable { id: ID! x: Int }',
        },
        [],
    ),
    "two_interface_objects_not_shareable": (
        {"a": ITF_A + 'type A implements Node @key(fields: "id") { id: ID! }', "b": ITF_OBJECT, "c": ITF_OBJECT},
        SHARING,
    ),
    "interface_object_alone": (
        {"a": ITF_A + 'type A implements Node @key(fields: "id") { id: ID! y: Int }', "b": ITF_OBJECT},
        [],
    ),
    # A type's @shareable covers the fields of that definition or extension only (we used to apply it to all).
    "shareable_type_not_its_extension": (
        {
            "a": FED2 + "type Query { v: V @shareable }\ntype V @shareable { a: Int }\nextend type V { b: Int }",
            "b": FED2 + "type Query { v: V @shareable }\ntype V @shareable { a: Int b: Int }",
        },
        SHARING,
    ),
    "shareable_extension_not_the_definition": (
        {
            "a": FED2 + "type Query { v: V @shareable }\nextend type V @shareable { b: Int }\ntype V { a: Int }",
            "b": FED2 + "type Query { v: V @shareable }\ntype V @shareable { a: Int b: Int }",
        },
        SHARING,
    ),
    "shareable_definition_and_extension": (
        {
            "a": FED2
            + "type Query { v: V @shareable }\ntype V @shareable { a: Int }\nextend type V @shareable { b: Int }",
            "b": FED2 + "type Query { v: V @shareable }\ntype V @shareable { a: Int b: Int }",
        },
        [],
    ),
    # Subscription root fields: one graph each, and never @shareable (we used to skip them).
    "subscription_field_in_two_graphs": (
        {"a": FED2 + "type Query { x: Int }\ntype Subscription { s: Int }", "b": FED2 + "type Subscription { s: Int }"},
        SHARING,
    ),
    "subscription_field_shareable": (
        {
            "a": FED2 + "type Query { x: Int }\ntype Subscription { s: Int @shareable }",
            "b": FED2 + "type Subscription { t: Int }",
        },
        SHARING,
    ),
    "subscription_fields_in_different_graphs": (
        {
            "a": FED2 + "type Query { x: Int }\ntype Subscription { s: V }\ntype V @shareable { x: Int }",
            "b": FED2 + "type Subscription { t: V }\ntype V @shareable { x: Int }",
        },
        [],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_verdict_as_apollos_composer(name: str) -> None:
    subgraphs, codes = CASES[name]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", sdl) for n, sdl in subgraphs.items()])
    assert sorted({e.code for e in result.errors}) == sorted(codes), [str(e) for e in result.errors]
    assert (result.supergraph_sdl is None) == bool(codes)


def test_interface_object_sharing_names_the_interface_object_field() -> None:
    subgraphs, _ = CASES["interface_object_and_implementation_not_shareable"]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", sdl) for n, sdl in subgraphs.items()])
    [error] = result.errors
    assert (error.type_name, error.field_name) == ("A", "x")
    assert 'resolved from subgraphs "a" and "b" (through @interfaceObject field "Node.x")' in error.message
