"""Keys on interfaces against Apollo's composer: each case is a subgraph set and the errors (code and message) Apollo's
composition (``@apollo/composition`` 2.14) reports for it, recorded when the case was written; ours must report the
same. docs/router.md §5.2 Subgraph rules."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@external", "@requires", '
    '"@provides", "@shareable", "@interfaceObject", "@inaccessible"])\n'
)

# name -> (subgraph name -> SDL after LINK, Apollo's [(code, message)])
CASES: dict[str, tuple[dict[str, str], list[tuple[str, str]]]] = {
    "no_key": (
        {"a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I { id: ID! }'},
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "id") on interface type "I" is missing on implementation type "A".',
            )
        ],
    ),
    "other_key": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! sku: ID! }\ntype A implements I @key(fields: "sku") { id: ID! sku: ID! }'
        },
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "id") on interface type "I" is missing on implementation type "A".',
            )
        ],
    ),
    "two_missing": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I { id: ID! }\ntype B implements I { id: ID! }'
        },
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "id") on interface type "I" is missing on implementation types "A" and "B".',
            )
        ],
    ),
    "two_keys_one_missing": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") @key(fields: "sku") { id: ID! sku: ID! }\ntype A implements I @key(fields: "id") { id: ID! sku: ID! }'
        },
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "sku") on interface type "I" is missing on implementation type "A".',
            )
        ],
    ),
    "not_resolvable": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id", resolvable: false) { id: ID! }'
        },
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "id") on interface type "I" should be resolvable on all implementation types, but is declared with argument "@key(resolvable:)" set to false in type "A".',
            )
        ],
    ),
    "iface_key_not_resolvable_impl_no_key": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id", resolvable: false) { id: ID! }\ntype A implements I { id: ID! }'
        },
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "id", resolvable: false) on interface type "I" is missing on implementation type "A".',
            )
        ],
    ),
    "key_spacing": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id  sku") { id: ID! sku: ID! }\ntype A implements I @key(fields: "id sku") { id: ID! sku: ID! }'
        },
        [],
    ),
    "key_order": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id sku") { id: ID! sku: ID! }\ntype A implements I @key(fields: "sku id") { id: ID! sku: ID! }'
        },
        [],
    ),
    "ok": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }'
        },
        [],
    ),
    "impl_in_other_graph": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }',
            "b": "type Query { b: Int }\ninterface I { id: ID! }\ntype B implements I { id: ID! }",
        },
        [
            (
                "INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE",
                '[a] Interface type "I" has a resolvable key (@key(fields: "id")) in subgraph "a" but that subgraph is missing some of the supergraph implementation types of "I". Subgraph "a" should define type "B" (and have it implement "I").',
            )
        ],
    ),
    "three_missing": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I { id: ID! }\ntype B implements I { id: ID! }\ntype C implements I { id: ID! }'
        },
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "id") on interface type "I" is missing on implementation types "A", "B" and "C".',
            )
        ],
    ),
    "two_not_resolvable": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id", resolvable: false) { id: ID! }\ntype B implements I @key(fields: "id", resolvable: false) { id: ID! }'
        },
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "id") on interface type "I" should be resolvable on all implementation types, but is declared with argument "@key(resolvable:)" set to false in types "A" and "B".',
            )
        ],
    ),
    "impl_two_in_other_graph": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") @key(fields: "sku") { id: ID! sku: ID }\ntype A implements I @key(fields: "id") @key(fields: "sku") { id: ID! sku: ID }',
            "b": "type Query { b: Int }\ninterface I { id: ID! }\ntype B implements I { id: ID! }\ntype C implements I { id: ID! }",
        },
        [
            (
                "INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE",
                '[a] Interface type "I" has a resolvable key (@key(fields: "id")) in subgraph "a" but that subgraph is missing some of the supergraph implementation types of "I". Subgraph "a" should define types "B" and "C" (and have them implement "I").',
            )
        ],
    ),
    "non_resolvable_iface_key_other_graph": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id", resolvable: false) { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }',
            "b": "type Query { b: Int }\ninterface I { id: ID! }\ntype B implements I { id: ID! }",
        },
        [],
    ),
    "iface_obj_other_graph": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }',
            "b": 'type Query { b: I }\ntype I @key(fields: "id") @interfaceObject { id: ID! x: Int }',
        },
        [],
    ),
    "mixed": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I { id: ID! }\ntype B implements I @key(fields: "id", resolvable: false) { id: ID! }'
        },
        [
            (
                "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                '[a] Key @key(fields: "id") on interface type "I" is missing on implementation type "A".',
            )
        ],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_interface_keys_match_apollo(case: str) -> None:
    sdls, expected = CASES[case]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", LINK + sdl) for n, sdl in sdls.items()])
    assert [(e.code, e.message) for e in result.errors] == expected
