"""The ``fields:`` argument of @key/@requires/@provides against Apollo's composer (``@apollo/composition`` 2.14, its
verdicts recorded when the cases were written): Federation 2 refuses anything but a string with
``*_INVALID_FIELDS_TYPE``; Federation 1 also took a list of strings or a bare name, which Apollo's schema upgrader
turns into a field set, so those compose. docs/router.md §5.2 Subgraph rules."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

FED2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@external", "@requires", "@provides"])\n'
MUST_BE_STRING = 'Invalid value for argument "fields": must be a string.'

# name -> (SDL of subgraph "a", Apollo's first error (code, message without "[a] "), or None when it composes)
CASES: dict[str, tuple[str, tuple[str, str] | None]] = {
    "key_int": (
        FED2 + "type Query { t: T }\ntype T @key(fields: 3) { id: ID! }",
        ("KEY_INVALID_FIELDS_TYPE", f'On type "T", for @key(fields: 3): {MUST_BE_STRING}'),
    ),
    "key_list": (
        FED2 + 'type Query { t: T }\ntype T @key(fields: ["id"]) { id: ID! }',
        ("KEY_INVALID_FIELDS_TYPE", f'On type "T", for @key(fields: ["id"]): {MUST_BE_STRING}'),
    ),
    "key_bare_name": (
        FED2 + "type Query { t: T }\ntype T @key(fields: id) { id: ID! }",
        ("KEY_INVALID_FIELDS_TYPE", f'On type "T", for @key(fields: id): {MUST_BE_STRING}'),
    ),
    "requires_int": (
        FED2
        + 'type Query { t: T }\ntype T @key(fields: "id") { id: ID! x: Int @external y: Int @requires(fields: 1) }',
        ("REQUIRES_INVALID_FIELDS_TYPE", f'On field "T.y", for @requires(fields: 1): {MUST_BE_STRING}'),
    ),
    "provides_boolean": (
        FED2 + 'type Query { t: T @provides(fields: true) }\ntype T @key(fields: "id") { id: ID! x: Int @external }',
        ("PROVIDES_INVALID_FIELDS_TYPE", f'On field "Query.t", for @provides(fields: true): {MUST_BE_STRING}'),
    ),
    "fed1_key_list": ('type Query { t: T }\ntype T @key(fields: ["id", "sku"]) { id: ID! sku: ID! }', None),
    "fed1_key_bare_name": ("type Query { t: T }\ntype T @key(fields: id) { id: ID! }", None),
}


@pytest.mark.parametrize("case", CASES)
def test_fields_argument_matches_apollo(case: str) -> None:
    sdl, expected = CASES[case]
    result = compose([SubgraphSource("a", "http://a/graphql", sdl)])
    if expected is None:
        assert result.errors == [], [str(e) for e in result.errors]
        return
    code, message = expected
    assert (result.errors[0].code, result.errors[0].message) == (code, f"[a] {message}")
    assert {e.code for e in result.errors} <= {code, "EXTERNAL_UNUSED"}  # Apollo reports the unused @external too


def test_fed1_list_of_fields_becomes_one_key() -> None:
    sdl, _ = CASES["fed1_key_list"]
    result = compose([SubgraphSource("a", "http://a/graphql", sdl)])
    assert '@join__type(graph: A, key: "id sku")' in (result.supergraph_sdl or "")
