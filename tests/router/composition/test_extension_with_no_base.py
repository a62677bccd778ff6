"""EXTENSION_WITH_NO_BASE against Apollo's composer: each case is a subgraph set with the subgraphs Apollo's composition
(``@apollo/composition``, schema upgrader for Fed1 and merge for every subgraph) names in an EXTENSION_WITH_NO_BASE
error (``[]``: it composes). Cases follow Apollo's own tests and the verdicts a cross-composer test suite records for
it. docs/router.md §5.2 Subgraph rules."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose


def fed2(*imports: str) -> str:
    names = ", ".join(f'"@{i}"' for i in imports)
    return f'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [{names}])\n'


PRODUCT_EXTENDS = (
    'type Product @extends @key(fields: "id") { id: ID! name: String! }\ntype Query { products: [Product] }'
)

# name -> (subgraph name -> SDL, subgraphs Apollo reports)
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    # Fed1: `extend type` with no `type` anywhere (Apollo's composeServices test 'errors if a type extension has no
    # definition counterpart').
    "fed1_extend_alone": (
        {"a": "type Query { q: String }", "b": 'extend type A @key(fields: "k") { k: ID! }'},
        ["b"],
    ),
    "fed1_extends_alone": ({"products": PRODUCT_EXTENDS, "reviews": "type Query { reviews: [String] }"}, ["products"]),
    # `type Product @extends` is a definition node, so it is a base for reviews' `extend type`, not the reverse.
    "fed1_extends_and_extend": (
        {
            "products": PRODUCT_EXTENDS,
            "reviews": 'extend type Product @key(fields: "id") { id: ID! reviews: [String] }\n'
            "type Query { reviews: [String] }",
        },
        ["products"],
    ),
    "fed1_extends_twice": (
        {
            "products": PRODUCT_EXTENDS,
            "reviews": 'type Product @extends @key(fields: "id") { id: ID! name: String! reviews: [String] }\n'
            "type Query { reviews: [String] }",
        },
        [],
    ),
    "fed1_base_elsewhere": (
        {
            "products": 'type Product @key(fields: "id") { id: ID! }\nextend type Product { name: String! }\n'
            "extend type Query { products: [Product] }",
            "reviews": 'type Product @extends @key(fields: "id") { id: ID! @external reviews: [String] }\n'
            "type Query { reviews: [String] }",
        },
        [],
    ),
    "fed1_root_extension": ({"a": "extend type Query { q: String }"}, []),
    # Fed2: only `extend` syntax is an extension; `@extends` is a definition carrying a directive.
    "fed2_extend_alone": (
        {
            "users": fed2("key")
            + 'type Query { users: [User] }\ntype User @key(fields: "id") { id: ID profile: Profile }\n'
            "extend type Profile { name: String }",
        },
        ["users"],
    ),
    "fed2_extend_scalar_alone": (
        {"a": fed2() + "directive @dir on SCALAR\nextend scalar MyScalar @dir\ntype Query { test: MyScalar }"},
        ["a"],
    ),
    "fed2_extend_in_two": (
        {
            "a": fed2("key") + 'type Query { t: T }\nextend type T @key(fields: "id") { id: ID! }',
            "b": fed2("key") + 'extend type T @key(fields: "id") { id: ID! x: Int }',
        },
        ["a", "b"],
    ),
    "fed2_extends_alone": (
        {"products": fed2("key", "extends") + PRODUCT_EXTENDS, "reviews": "type Query { reviews: [String] }"},
        [],
    ),
    "fed2_extends_with_extension": (
        {
            "products": fed2("key", "extends") + PRODUCT_EXTENDS + "\nextend type Product { inStock: Boolean! }",
        },
        [],
    ),
    "fed2_base_in_other": (
        {
            "products": fed2("key")
            + 'type Product @key(fields: "id") { id: ID! }\nextend type Product { name: String }\n'
            "type Query { products: [Product] }",
            "reviews": fed2("key", "extends", "external")
            + 'type Product @key(fields: "id") @extends { id: ID! @external reviews: [String] }',
        },
        [],
    ),
    # A Fed1 `extend type` was upgraded into a definition, so it is a base for a Fed2 subgraph's extension.
    "fed2_extension_on_fed1_base": (
        {
            "a": 'type Query { t: T }\ntype T @key(fields: "id") { id: ID! }',
            "b": fed2("key") + 'extend type T @key(fields: "id") { id: ID! x: Int }',
        },
        [],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_extension_with_no_base_matches_apollo(case: str) -> None:
    sdls, expected = CASES[case]
    result = compose([SubgraphSource(name, f"http://{name}/graphql", sdl) for name, sdl in sdls.items()])
    found = [e for e in result.errors if e.code == "EXTENSION_WITH_NO_BASE"]
    assert sorted(e.subgraph or "" for e in found) == expected, [str(e) for e in result.errors]
    if not expected:
        assert result.ok, [str(e) for e in result.errors]
    for e in found:
        assert e.message == (
            f'[{e.subgraph}] Type "{e.type_name}" is an extension type, but there is no type definition for '
            f'"{e.type_name}" in any subgraph.'
        )
