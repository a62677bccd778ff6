"""``@cost``/``@listSize`` misuse against Apollo's composer: each case is one subgraph and the errors (code and
message) Apollo's composition (``@apollo/composition`` 2.14) reports for it, recorded when the case was written;
ours must report the same. docs/router.md §5.6."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])\n'

# name -> (SDL after LINK, [(code, message without "[a] ")])
CASES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "list_size_on_non_list": (
        "type Query { t: Int @listSize(assumedSize: 2) }",
        [("LIST_SIZE_APPLIED_TO_NON_LIST", '"Query.t" is not a list')],
    ),
    "slicing_argument_missing": (
        'type Query { t(first: Int): [Int] @listSize(slicingArguments: ["last"]) }',
        [("LIST_SIZE_INVALID_SLICING_ARGUMENT", 'Slicing argument "last" is not an argument of "Query.t"')],
    ),
    "slicing_argument_not_int": (
        'type Query { t(first: String): [Int] @listSize(slicingArguments: ["first"]) }',
        [("LIST_SIZE_INVALID_SLICING_ARGUMENT", 'Slicing argument "Query.t(first:)" must be Int or Int!')],
    ),
    "sized_field_missing": (
        'type Query { t(first: Int): C @listSize(slicingArguments: ["first"], sizedFields: ["nope"]) }\n'
        "type C { items: [Int] }",
        [("LIST_SIZE_INVALID_SIZED_FIELD", 'Sized field "nope" is not a field on type "C"')],
    ),
    "sized_field_not_a_list": (
        'type Query { t(first: Int): C @listSize(slicingArguments: ["first"], sizedFields: ["n"]) }\ntype C { n: Int }',
        [("LIST_SIZE_APPLIED_TO_NON_LIST", 'Sized field "C.n" is not a list')],
    ),
    "cost_on_interface_field": (
        "type Query { i: I }\ninterface I { x: Int @cost(weight: 2) }\ntype A implements I { x: Int }",
        [("COST_APPLIED_TO_INTERFACE_FIELD", '@cost cannot be applied to interface "I.x"')],
    ),
    "negative_assumed_size": (
        "type Query { t: [Int] @listSize(assumedSize: -1) }",
        [("LIST_SIZE_INVALID_ASSUMED_SIZE", 'Assumed size of "Query.t" cannot be negative')],
    ),
    "list_size_on_interface_field": (
        "type Query { i: I }\ninterface I { x: [Int] @listSize(assumedSize: 2) }\ntype A implements I { x: [Int] }",
        [],
    ),
    "sized_fields_on_a_connection": (
        'type Query { page(first: Int!): Page! @listSize(slicingArguments: ["first"], sizedFields: ["items"]) }\n'
        "type Page { total: Int! items: [Int!]! }",
        [],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_demand_directive_misuse_matches_apollo(case: str) -> None:
    sdl, expected = CASES[case]
    result = compose([SubgraphSource("a", "http://a/graphql", LINK + sdl)])
    assert [(e.code, e.message) for e in result.errors] == [(code, f"[a] {m}") for code, m in expected]
