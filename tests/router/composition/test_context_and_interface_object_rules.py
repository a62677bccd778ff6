"""Placement rules for @fromContext, @requires/@provides on interfaces and @interfaceObject, against Apollo's composer:
each case is a subgraph set and the errors (code and message) Apollo's composition (``@apollo/composition`` 2.14)
reports for it, recorded when the case was written; ours must report the same codes, and the same message where
Apollo's wording is kept. docs/router.md §5.2, §5.7."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@external", "@requires", '
    '"@provides", "@shareable", "@interfaceObject", "@context", "@fromContext"])\n'
)
CONTEXT = 'type Query { t: T }\ntype T @key(fields: "id") @context(name: "c") { id: ID! u: U }\n'

# name -> (subgraph -> SDL after LINK, Apollo's codes, one of Apollo's messages that ours must end with, or "")
CASES: dict[str, tuple[dict[str, str], list[str], str]] = {
    "from_context_with_default": (
        {"a": CONTEXT + 'type U @key(fields: "id") { id: ID! f(x: ID = "1" @fromContext(field: "$c { id }")): Int }'},
        ["CONTEXT_NOT_SET"],
        '@fromContext arguments may not have a default value: "U.f(x:)".',
    ),
    "from_context_on_interface_field": (
        {
            "a": CONTEXT.replace("u: U", "u: I") + 'interface I { f(x: ID @fromContext(field: "$c { id }")): Int }\n'
            'type U implements I @key(fields: "id") { id: ID! f(x: ID @fromContext(field: "$c { id }")): Int }'
        },
        ["CONTEXT_NOT_SET"],
        '@fromContext argument cannot be used on a field implementing an interface field "I.f".',
    ),
    "context_selection_invalid": (
        {"a": CONTEXT + 'type U @key(fields: "id") { id: ID! f(x: ID @fromContext(field: "$c { nope }")): Int }'},
        ["CONTEXT_INVALID_SELECTION"],
        'Context "c" is used in "U.f(x:)" but the selection is invalid for type T. Error: Cannot query field "nope" '
        'on type "T".',
    ),
    # the selection must fit every type setting the context
    "context_selection_invalid_for_one_setter": (
        {
            "a": CONTEXT
            + 'type V @key(fields: "sku") @context(name: "c") { sku: ID! u: U }\nextend type Query { v: V }\n'
            'type U @key(fields: "id") { id: ID! f(x: ID @fromContext(field: "$c { id }")): Int }'
        },
        ["CONTEXT_INVALID_SELECTION"],
        'Context "c" is used in "U.f(x:)" but the selection is invalid for type V. Error: Cannot query field "id" '
        'on type "V".',
    ),
    "provides_on_interface_field": (
        {
            "a": 'type Query { i: I }\ninterface I { t: T @provides(fields: "x") }\n'
            'type T @key(fields: "id") { id: ID! x: Int @external }\ntype A implements I { t: T }'
        },
        ["PROVIDES_UNSUPPORTED_ON_INTERFACE"],
        'Cannot use @provides on field "I.t" of parent type "I": @provides is not yet supported within interfaces',
    ),
    "requires_on_interface_field": (
        {
            "a": 'type Query { i: I }\ninterface I { id: ID! y: Int @requires(fields: "id") }\n'
            "type A implements I { id: ID! y: Int }"
        },
        ["REQUIRES_FIELDS_MISSING_EXTERNAL", "REQUIRES_UNSUPPORTED_ON_INTERFACE"],
        'Cannot use @requires on field "I.y" of parent type "I": @requires is not yet supported within interfaces',
    ),
    "interface_object_without_interface": (
        {
            "a": 'type Query { i: I }\ntype I @key(fields: "id") @interfaceObject { id: ID! x: Int }',
            "b": 'type I @key(fields: "id") @interfaceObject { id: ID! y: Int }',
        },
        ["INTERFACE_OBJECT_USAGE_ERROR"],
        'Type "I" is declared with @interfaceObject in all the subgraphs in which it is defined (it is defined in '
        'subgraphs "a" and "b" but should be defined as an interface in at least one subgraph)',
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_placement_rule_matches_apollo(case: str) -> None:
    sdls, codes, message = CASES[case]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", LINK + sdl) for n, sdl in sdls.items()])
    assert sorted({e.code for e in result.errors}) == codes, [str(e) for e in result.errors]
    assert any(e.message.endswith(message) for e in result.errors), [str(e) for e in result.errors]


def test_context_selection_with_a_fragment_per_setter_composes() -> None:
    sdl = (
        CONTEXT + 'type V @key(fields: "sku") @context(name: "c") { sku: ID! u: U }\nextend type Query { v: V }\n'
        'type U @key(fields: "id") { id: ID! f(x: ID @fromContext(field: "$c ... on T { id } ... on V { sku }")): Int }'
    )
    assert compose([SubgraphSource("a", "http://a/graphql", LINK + sdl)]).errors == []
