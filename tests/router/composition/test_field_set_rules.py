"""Field-set and directive-placement rules against Apollo's composer (``@apollo/composition`` 2.14, the codes it
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


# Federation 2 merges @tag, @inaccessible, @deprecated and composed directives from the graphs that resolve a field,
# so they cannot sit on an @external copy (Apollo: MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL, one per application).
EXTERNAL_OWNER = 'type Query { t: T }\ntype T @key(fields: "id") { id: ID! x: Int }'
TAG_LINK = LINK.replace('"@shareable"]', '"@shareable", "@tag", "@inaccessible"]')


@pytest.mark.parametrize("applied", ['@tag(name: "t")', "@inaccessible", '@deprecated(reason: "no")'])
def test_merged_directive_on_external_matches_apollo(applied: str) -> None:
    b = f'type T @key(fields: "id") {{ id: ID! x: Int @external {applied} y: Int @requires(fields: "x") }}'
    result = compose(
        [
            SubgraphSource("a", "http://a/graphql", TAG_LINK + EXTERNAL_OWNER),
            SubgraphSource("b", "http://b/graphql", TAG_LINK + b),
        ]
    )
    assert [(e.code, e.message) for e in result.errors] == [
        (
            "MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL",
            f'[b] Cannot apply merged directive {applied} to external field "T.x"',
        )
    ]


CONTEXT_LINK = LINK.replace('"@shareable"]', '"@shareable", "@context", "@fromContext"]')


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("bad_name", "may not contain an underscore."),
        ("1abc", "is invalid. It should have only alphanumeric characters."),
        ("a-b", "is invalid. It should have only alphanumeric characters."),
        ("goodName1", None),
    ],
)
def test_context_name_matches_apollo(name: str, problem: str | None) -> None:
    sdl = (
        f'type Query {{ t: T }}\ntype T @key(fields: "id") @context(name: "{name}") {{ id: ID! u: U }}\n'
        f'type U @key(fields: "id") {{ id: ID! f(x: ID @fromContext(field: "${name} {{ id }}")): Int }}'
    )
    result = compose([SubgraphSource("a", "http://a/graphql", CONTEXT_LINK + sdl)])
    invalid = [e.message for e in result.errors if e.code == "CONTEXT_NAME_INVALID"]
    assert invalid == ([f'[a] Context name "{name}" {problem}'] if problem else [])
    if problem is None:
        assert result.errors == []
