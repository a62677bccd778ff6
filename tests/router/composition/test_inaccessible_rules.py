"""@inaccessible rules against Apollo's composer: each case is one subgraph and the errors (code and message)
Apollo's composition (``@apollo/composition`` 2.14) reports for it, recorded when the case was written; ours must
report the same. A default value in the API schema may not use a hidden enum value or input field; a type whose
children are all hidden is ONLY_INACCESSIBLE_CHILDREN (for Query too, without NO_QUERIES). docs/router.md §5.3."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@inaccessible"])\n'

# name -> (SDL after LINK, Apollo's [(code, message)])
CASES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "query_all_inacc": (
        "type Query { t: Int @inaccessible }",
        [("ONLY_INACCESSIBLE_CHILDREN", 'Type "Query" is in the API schema but all of its fields are @inaccessible.')],
    ),
    "enum_all_inacc": (
        "type Query { t: E }\nenum E { A @inaccessible }",
        [("ONLY_INACCESSIBLE_CHILDREN", 'Type "E" is in the API schema but all of its values are @inaccessible.')],
    ),
    "input_all_inacc": (
        "type Query { t(i: I): Int }\ninput I { a: Int @inaccessible }",
        [
            (
                "ONLY_INACCESSIBLE_CHILDREN",
                'Type "I" is in the API schema but all of its input fields are @inaccessible.',
            )
        ],
    ),
    "iface_all_inacc": (
        "type Query { t: X }\ninterface X { a: Int @inaccessible }\ntype Y implements X { a: Int @inaccessible b: Int }",
        [("ONLY_INACCESSIBLE_CHILDREN", 'Type "X" is in the API schema but all of its fields are @inaccessible.')],
    ),
    "default_arg_enum": (
        "enum E { A B @inaccessible }\ntype Query { t(e: E = B): Int }",
        [
            (
                "DEFAULT_VALUE_USES_INACCESSIBLE",
                'Enum value "E.B" is @inaccessible but is used in the default value of "Query.t(e:)", which is in the API schema.',
            )
        ],
    ),
    "default_input_field": (
        "enum E { A B @inaccessible }\ninput I { e: E = B }\ntype Query { t(i: I): Int }",
        [
            (
                "DEFAULT_VALUE_USES_INACCESSIBLE",
                'Enum value "E.B" is @inaccessible but is used in the default value of "I.e", which is in the API schema.',
            )
        ],
    ),
    "default_list": (
        "enum E { A B @inaccessible }\ntype Query { t(e: [E] = [A, B]): Int }",
        [
            (
                "DEFAULT_VALUE_USES_INACCESSIBLE",
                'Enum value "E.B" is @inaccessible but is used in the default value of "Query.t(e:)", which is in the API schema.',
            )
        ],
    ),
    "default_object": (
        "enum E { A B @inaccessible }\ninput I { e: E }\ntype Query { t(i: I = {e: B}): Int }",
        [
            (
                "DEFAULT_VALUE_USES_INACCESSIBLE",
                'Enum value "E.B" is @inaccessible but is used in the default value of "Query.t(i:)", which is in the API schema.',
            )
        ],
    ),
    "default_inacc_input_field": (
        "input I { a: Int b: Int @inaccessible }\ntype Query { t(i: I = {b: 1}): Int }",
        [
            (
                "DEFAULT_VALUE_USES_INACCESSIBLE",
                'Input field "I.b" is @inaccessible but is used in the default value of "Query.t(i:)", which is in the API schema.',
            )
        ],
    ),
    "default_on_inacc_arg_ok": (
        "enum E { A B @inaccessible }\ntype Query { t(e: E = B @inaccessible): Int }",
        [],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_inaccessible_rule_matches_apollo(case: str) -> None:
    sdl, expected = CASES[case]
    result = compose([SubgraphSource("a", "http://a/graphql", LINK + sdl)])
    assert [(e.code, e.message) for e in result.errors] == expected
