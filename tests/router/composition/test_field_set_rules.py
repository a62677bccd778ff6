"""Field-set rules of @key/@requires/@provides against Apollo's composer (``@apollo/composition`` 2.14, the codes it
reported for each set when the case was written): no directive application inside a field set, no field with
arguments in a @provides. docs/router.md §5.2."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@external", '
    '"@requires", "@provides", "@shareable"])\n'
)

# name -> (subgraph -> SDL after LINK, Apollo's code, the text its message ends with)
CASES: dict[str, tuple[dict[str, str], str, str]] = {
    "key_directive": (
        {"a": 'type Query { t: T }\ntype T @key(fields: "id @include(if: true)") { id: ID! }'},
        "KEY_DIRECTIVE_IN_FIELDS_ARG",
        "cannot have directive applications in the @key(fields:) argument but found @include(if: true).",
    ),
    "requires_directive": (
        {
            "a": 'type Query { t: T }\ntype T @key(fields: "id") { id: ID! x: Int @external '
            'y: Int @requires(fields: "x @skip(if: false)") }',
            "b": 'type T @key(fields: "id") { id: ID! x: Int }',
        },
        "REQUIRES_DIRECTIVE_IN_FIELDS_ARG",
        "cannot have directive applications in the @requires(fields:) argument but found @skip(if: false).",
    ),
    "provides_directive": (
        {
            "a": 'type Query { t: T @provides(fields: "x @skip(if: false)") }\n'
            'type T @key(fields: "id") { id: ID! x: Int @external }',
            "b": 'type T @key(fields: "id") { id: ID! x: Int @shareable }',
        },
        "PROVIDES_DIRECTIVE_IN_FIELDS_ARG",
        "cannot have directive applications in the @provides(fields:) argument but found @skip(if: false).",
    ),
    "provides_field_with_arguments": (
        {
            "a": 'type Query { t: T @provides(fields: "x") }\ntype T @key(fields: "id") { id: ID! x(a: Int): Int @external }',
            "b": 'type T @key(fields: "id") { id: ID! x(a: Int): Int @shareable }',
        },
        "PROVIDES_FIELDS_HAS_ARGS",
        "field T.x cannot be included because it has arguments (fields with argument are not allowed in @provides)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_field_set_rule_matches_apollo(case: str) -> None:
    sdls, code, ending = CASES[case]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", LINK + sdl) for n, sdl in sdls.items()])
    [error] = result.errors
    assert error.code == code and error.message.endswith(ending), str(error)
