"""Bad `@link` applications against Apollo's composer: each case is one subgraph whose links are wrong and the
errors (code and message) Apollo's composition (``@apollo/composition`` 2.14) reports for it, recorded when the case
was written; ours must report the same, and nothing else of the subgraph. docs/router.md §5.2 Subgraph rules."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

Q = "type Query { q: Int }\n"
SHAPE = (
    'values should be either strings or input object values of the form { name: "<importedElement>", as: "<alias>" }'
)


def fed(version: str, imports: str) -> str:
    return f'extend schema @link(url: "https://specs.apollo.dev/federation/{version}", import: {imports})\n'


# name -> (SDL of subgraph "a", [(code, message without the "[a] " prefix)]) ; [] means it composes
CASES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # an element the linked version does not define yet is "unknown" there
    "newer_than_the_version": (
        fed("v2.0", '["@key", "@interfaceObject"]') + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "@interfaceObject".')],
    ),
    "type_newer_than_the_version": (
        fed("v2.3", '["@key", "Scope"]') + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "Scope".')],
    ),
    "unknown_name": (
        fed("v2.3", '["@key", "@flexibility"]') + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "@flexibility".')],
    ),
    "typo_suggests": (
        fed("v2.3", '["@sharable"]') + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "@sharable". Did you mean "@shareable"?')],
    ),
    "two_suggestions": (
        fed("v2.9", '["@requiresScope"]') + Q,
        [
            (
                "INVALID_LINK_DIRECTIVE_USAGE",
                'Cannot import unknown element "@requiresScope". Did you mean "@requiresScopes" or "@requires"?',
            )
        ],
    ),
    "directive_without_at": (
        fed("v2.3", '["key"]') + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "key". Did you mean directive "@key"?')],
    ),
    "namespaced_name": (
        fed("v2.3", '["@federation__key"]') + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "@federation__key".')],
    ),
    "other_apollo_spec": (
        fed("v2.3", '["@key"]')
        + 'extend schema @link(url: "https://specs.apollo.dev/tag/v0.3", import: ["@tagg"])\n'
        + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "@tagg". Did you mean "@tag"?')],
    ),
    "not_a_string_or_object": (
        fed("v2.3", '["@key", 3]') + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", f"Invalid sub-value 3 for @link(import:) argument: {SHAPE}.")],
    ),
    "object_without_name": (
        fed("v2.3", '[{as: "@k"}]') + Q,
        [
            (
                "INVALID_LINK_DIRECTIVE_USAGE",
                'Invalid sub-value {as: "@k"} for @link(import:) argument: missing mandatory "name" field.',
            )
        ],
    ),
    "object_name_not_a_string": (
        fed("v2.3", "[{name: 1}]") + Q,
        [
            (
                "INVALID_LINK_DIRECTIVE_USAGE",
                'Invalid value for the "name" field for sub-value {name: 1} of @link(import:) argument: must be a '
                "string.",
            )
        ],
    ),
    "object_unknown_field": (
        fed("v2.3", '[{name: "@key", alias: "@k"}]') + Q,
        [
            (
                "INVALID_LINK_DIRECTIVE_USAGE",
                'Unknown field "alias" for sub-value {name: "@key", alias: "@k"} of @link(import:) argument.',
            )
        ],
    ),
    "directive_renamed_without_at": (
        fed("v2.3", '[{name: "@key", as: "k"}]') + Q,
        [
            (
                "INVALID_LINK_DIRECTIVE_USAGE",
                "Invalid @link import renaming: directive \"@key\" imported name should start with a '@' character, "
                'but got "k".',
            )
        ],
    ),
    "type_renamed_with_at": (
        fed("v2.3", '[{name: "FieldSet", as: "@fs"}]') + Q,
        [
            (
                "INVALID_LINK_DIRECTIVE_USAGE",
                "Invalid @link import renaming: type \"FieldSet\" imported name should not start with a '@' "
                'character, but got "@fs" (or, if @FieldSet is a directive, then it should be referred to with a '
                "'@').",
            )
        ],
    ),
    "malformed_import_in_custom_link": (
        fed("v2.3", '["@key"]') + 'extend schema @link(url: "https://example.com/foo/v1.0", import: [3])\n' + Q,
        [("INVALID_LINK_DIRECTIVE_USAGE", f"Invalid sub-value 3 for @link(import:) argument: {SHAPE}.")],
    ),
    "every_bad_entry_reported": (
        fed("v2.0", '["@interfaceObject", 3, "@foo"]') + Q,
        [
            ("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "@interfaceObject".'),
            ("INVALID_LINK_DIRECTIVE_USAGE", f"Invalid sub-value 3 for @link(import:) argument: {SHAPE}."),
            ("INVALID_LINK_DIRECTIVE_USAGE", 'Cannot import unknown element "@foo".'),
        ],
    ),
    "unknown_federation_version": (
        fed("v6.9", '["@key"]') + Q,
        [
            (
                "UNKNOWN_FEDERATION_LINK_VERSION",
                "Invalid version v6.9 for the federation feature in @link directive on schema",
            )
        ],
    ),
    "federation_after_the_last": (
        fed("v2.15", '["@key"]') + Q,
        [
            (
                "UNKNOWN_FEDERATION_LINK_VERSION",
                "Invalid version v2.15 for the federation feature in @link directive on schema",
            )
        ],
    ),
    "federation_v1_link": (
        fed("v1.0", '["@key"]') + Q,
        [
            (
                "UNKNOWN_FEDERATION_LINK_VERSION",
                "Invalid version v1.0 for the federation feature in @link directive on schema",
            )
        ],
    ),
    "version_not_a_version": (
        'extend schema @link(url: "https://specs.apollo.dev/federation/not-a-version", import: ["@key"])\n' + Q,
        [("INVALID_LINK_IDENTIFIER", "Expected a version string (of the form v1.2), got not-a-version")],
    ),
    "url_without_path": (
        fed("v2.3", '["@key"]') + 'extend schema @link(url: "https://specs.apollo.dev", import: ["@key"])\n' + Q,
        [("INVALID_LINK_IDENTIFIER", "Missing path in feature url 'https://specs.apollo.dev/'")],
    ),
    "url_trailing_slash": (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3/", import: ["@key"])\n' + Q,
        [
            (
                "INVALID_LINK_IDENTIFIER",
                "Missing version component in feature url 'https://specs.apollo.dev/federation/v2.3/'",
            )
        ],
    ),
    "url_without_name": (
        fed("v2.3", '["@key"]') + 'extend schema @link(url: "https://example.com/v1.0")\n' + Q,
        [("INVALID_LINK_IDENTIFIER", "Missing feature name component in feature url 'https://example.com/v1.0'")],
    ),
    "custom_url_without_version": (
        fed("v2.3", '["@key"]')
        + 'extend schema @link(url: "https://example.com/foo", import: ["@bar"])\ndirective @bar on FIELD_DEFINITION\n'
        + Q,
        [("INVALID_LINK_IDENTIFIER", "Expected a version string (of the form v1.2), got foo")],
    ),
    "federation_linked_twice": (
        fed("v2.3", '["@key"]') + fed("v2.3", '["@shareable"]') + Q,
        [
            (
                "INVALID_LINK_DIRECTIVE_USAGE",
                'Cannot link feature "https://specs.apollo.dev/federation" since it has already been linked in the '
                "schema.",
            )
        ],
    ),
    "custom_feature_linked_twice": (
        fed("v2.3", '["@key"]')
        + 'extend schema @link(url: "https://example.com/foo/v1.0")\nextend schema @link(url: "https://example.com/foo/v1.1")\n'
        + Q,
        [
            (
                "INVALID_LINK_DIRECTIVE_USAGE",
                'Cannot link feature "https://example.com/foo" since it has already been linked in the schema.',
            )
        ],
    ),
    # accepted: a type import, a custom spec's imports (its elements are unknown, so unchecked), good renames
    "accepted_imports": (
        fed("v2.3", '[{name: "@key", as: "@k"}, {name: "@shareable"}, "FieldSet"]')
        + 'extend schema @link(url: "https://example.com/foo/v1.0", import: ["@zzz"])\n'
        + 'type Query { t: T }\ntype T @k(fields: "id") @shareable { id: ID! }',
        [],
    ),
    "link_spec_linked_explicitly": (
        'schema @link(url: "https://specs.apollo.dev/link/v1.0", import: ["Purpose"]) '
        '@link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@shareable"]) { query: Query }\n' + Q,
        [],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_link_reports_what_apollo_reports(case: str) -> None:
    sdl, expected = CASES[case]
    result = compose([SubgraphSource("a", "http://a/graphql", sdl)])
    assert [(e.code, e.message) for e in result.errors] == [(code, f"[a] {msg}") for code, msg in expected]
    if not expected:
        assert result.supergraph_sdl is not None


def test_a_bad_link_stops_the_subgraph_before_its_directives_are_read() -> None:
    """Apollo's composer cannot build the subgraph, so the unknown-directive error the failed import would cause
    (`@interfaceObject` used below) is not reported on top of the link error."""
    sdl = (
        fed("v2.0", '["@key", "@interfaceObject"]')
        + 'type Query { n: N }\ntype N @key(fields: "id") @interfaceObject { id: ID! }'
    )
    result = compose([SubgraphSource("a", "http://a/graphql", sdl)])
    assert [e.code for e in result.errors] == ["INVALID_LINK_DIRECTIVE_USAGE"]
