"""Unknown directives against Apollo's composer: each case is one subgraph and the error codes Apollo's composition
(``@apollo/composition`` 2.14) reports for it, recorded when the case was written; ours must report the same codes
(``[]``: it composes). docs/router.md §5.1 Pipeline.

A directive must be built in, defined in the SDL, or brought in by a @link. In a Fed2 subgraph the federation
directives are known under their imported name (renamed with ``as``) or, when not imported, under the namespace
(``@federation__extends``); in a Fed1 subgraph only the Fed1 ones (@key, @external, @requires, @provides,
@extends, @tag). We used to ignore any other directive, which silently dropped e.g. an un-imported ``@extends``.
"""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose


def fed2(imports: str, body: str, version: str = "2.3") -> str:
    return f'extend schema @link(url: "https://specs.apollo.dev/federation/v{version}", import: [{imports}])\n' + body


def user(directive: str) -> str:
    return f'type Query {{ me: User }}\ntype User @key(fields: "id") {directive} {{ id: ID! }}'


BAD = ["INVALID_GRAPHQL"]

# name -> (SDL of subgraph "a", Apollo's error codes); composed with BASE, which owns User
BASE = fed2('"@key"', 'type Query { u: User }\ntype User @key(fields: "id") { id: ID! }')
CASES: dict[str, tuple[str, list[str]]] = {
    "fed2_extends_not_imported": (fed2('"@key"', user("@extends")), BAD),
    "fed2_extends_imported": (fed2('"@key", "@extends"', user("@extends")), []),
    "fed2_extends_namespaced": (fed2('"@key"', user("@federation__extends")), []),
    "fed2_extends_renamed": (fed2('"@key", {name: "@extends", as: "@ext"}', user("@ext")), []),
    "fed2_extends_renamed_used_by_its_name": (fed2('"@key", {name: "@extends", as: "@ext"}', user("@extends")), BAD),
    "fed2_extends_renamed_used_namespaced": (
        fed2('"@key", {name: "@extends", as: "@ext"}', user("@federation__extends")),
        BAD,
    ),
    "fed2_key_imported_used_namespaced": (
        fed2('"@key"', 'type Query { me: User }\ntype User @federation__key(fields: "id") { id: ID! }'),
        BAD,
    ),
    "fed2_custom_namespace": (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", as: "fed", import: ["@key"])\n'
        + user("@fed__extends"),
        [],
    ),
    "fed2_custom_namespace_default_prefix_used": (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", as: "fed", import: ["@key"])\n'
        + user("@federation__extends"),
        BAD,
    ),
    "fed2_shareable_not_imported": (fed2('"@key"', "type Query { me: Int @shareable }"), BAD),
    "fed2_namespaced_too_new_for_link": (
        fed2('"@key"', "type Query { me: Int @federation__cost(weight: 2) }", "2.0"),
        BAD,
    ),
    "fed2_undefined_on_argument": (fed2('"@key"', "type Query { me(x: Int @foo): Int }"), BAD),
    "fed2_undefined_on_enum_value": (fed2('"@key"', "type Query { me: E }\nenum E { A @foo }"), BAD),
    "fed2_undefined_on_schema": (fed2('"@key"', "extend schema @foo\ntype Query { me: Int }"), BAD),
    "fed2_defined": (fed2('"@key"', "directive @foo on FIELD_DEFINITION\ntype Query { me: Int @foo }"), []),
    "fed2_built_in": (
        fed2('"@key"', 'scalar D @specifiedBy(url: "http://x")\ntype Query { me: D @deprecated(reason: "x") }'),
        [],
    ),
    "fed2_imported_from_other_link_but_undefined": (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"]) '
        '@link(url: "https://example.com/foo/v1.0", import: ["@foo"])\ntype Query { me: Int @foo }',
        BAD,
    ),
    "fed2_imported_from_apollo_tag_spec": (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"]) '
        '@link(url: "https://specs.apollo.dev/tag/v0.3", import: ["@tag"])\ntype Query { me: Int @tag(name: "x") }',
        [],
    ),
    "fed1_extends": ('type Query { me: User }\ntype User @key(fields: "id") @extends { id: ID! @external x: Int }', []),
    "fed1_tag": ('type Query { me: Int @tag(name: "x") }', []),
    "fed1_undefined": ("type Query { me: Int @foo }", BAD),
    "fed1_defined": ("directive @foo on FIELD_DEFINITION\ntype Query { me: Int @foo }", []),
    "fed1_shareable": ("type Query { me: Int @shareable }", BAD),
    "fed1_inaccessible": ("type Query { me: Int @inaccessible x: Int }", BAD),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_verdict_as_apollos_composer(name: str) -> None:
    sdl, codes = CASES[name]
    result = compose([SubgraphSource("a", "http://a/graphql", sdl), SubgraphSource("base", "http://b/graphql", BASE)])
    assert sorted({e.code for e in result.errors}) == sorted(codes), [str(e) for e in result.errors]
    assert (result.supergraph_sdl is None) == bool(codes)


def test_unknown_directive_names_it_and_how_to_import_it() -> None:
    sdl = CASES["fed2_extends_not_imported"][0]
    result = compose([SubgraphSource("a", "http://a/graphql", sdl), SubgraphSource("base", "http://b/graphql", BASE)])
    [error] = result.errors
    assert error.subgraph == "a"
    assert 'Unknown directive "@extends"' in error.message
    assert '"@federation__extends"' in error.message
