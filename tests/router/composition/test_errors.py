"""Each composition rule, triggered by the smallest subgraph set that breaks it."""

from __future__ import annotations

import pytest

from router.composition import CompositionResult, SubgraphSource, compose
from router.supergraph import load_supergraph

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", '
    '"@external", "@requires", "@provides", "@override", "@inaccessible", "@tag", "@interfaceObject"])\n'
)


def run(**sdls: str) -> CompositionResult:
    return compose([SubgraphSource(name, f"http://{name}/graphql", sdl) for name, sdl in sdls.items()])


def fed2(body: str) -> str:
    return LINK + body


BASE_QUERY = "type Query { ok: Int }\n"
CONTEXT_LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", '
    '"@fromContext"])\n'
)

# code -> (subgraphs, expected subgraph, type, field) ; subgraph/type/field None means "not asserted"
CASES: dict[str, tuple[dict[str, str], str | None, str | None, str | None]] = {
    "KEY_INVALID_FIELDS": ({"a": fed2(BASE_QUERY + 'type User @key(fields: "uid") { id: ID! }')}, "a", "User", None),
    "KEY_FIELDS_SELECT_INVALID_TYPE": (
        {
            "a": fed2(
                BASE_QUERY + 'type User @key(fields: "i { id }") { i: I! }\ninterface I { id: ID! }\n'
                "type A implements I { id: ID! }"
            )
        },
        "a",
        "User",
        "i",
    ),
    "KEY_FIELDS_HAS_ARGS": (
        {"a": fed2(BASE_QUERY + 'type User @key(fields: "id") { id(x: Int): ID! }')},
        "a",
        "User",
        "id",
    ),
    "EXTERNAL_UNUSED": (
        {"a": fed2(BASE_QUERY + 'type User @key(fields: "id") { id: ID! name: String @external }')},
        "a",
        "User",
        "name",
    ),
    "REQUIRES_INVALID_FIELDS": (
        {"a": fed2(BASE_QUERY + 'type User @key(fields: "id") { id: ID! x: Int @requires(fields: "nope") }')},
        "a",
        "User",
        "x",
    ),
    "REQUIRES_FIELDS_MISSING_EXTERNAL": (
        {"a": fed2(BASE_QUERY + 'type User @key(fields: "id") { id: ID! n: Int x: Int @requires(fields: "n") }')},
        "a",
        "User",
        "x",
    ),
    "PROVIDES_INVALID_FIELDS": (
        {"a": fed2('type Query { u: User @provides(fields: "nope") }\ntype User @key(fields: "id") { id: ID! }')},
        "a",
        "Query",
        "u",
    ),
    "PROVIDES_ON_NON_OBJECT_FIELD": ({"a": fed2('type Query { n: Int @provides(fields: "x") }')}, "a", "Query", "n"),
    "OVERRIDE_FROM_SELF_ERROR": ({"a": fed2('type Query { n: Int @override(from: "a") }')}, "a", "Query", "n"),
    "OVERRIDE_SOURCE_HAS_OVERRIDE": (
        {
            "a": fed2('type Query { n: Int @override(from: "b") }'),
            "b": fed2('type Query { n: Int @override(from: "a") }'),
        },
        None,
        "Query",
        "n",
    ),
    "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE": (
        {
            "a": fed2(
                BASE_QUERY + 'type User @key(fields: "id") { id: ID! n: Int @external @override(from: "b") '
                'x: Int @requires(fields: "n") }'
            ),
            "b": fed2('type User @key(fields: "id") { id: ID! n: Int }'),
        },
        "a",
        "User",
        "n",
    ),
    "INVALID_FIELD_SHARING": (
        {
            "a": fed2('type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }'),
            "b": fed2('type User @key(fields: "id") { id: ID! name: String }'),
        },
        "a",
        "User",
        "name",
    ),
    "INVALID_SHAREABLE_USAGE": (
        {"a": fed2("type Query { i: I }\ninterface I { x: Int @shareable }\ntype A implements I { x: Int }")},
        "a",
        "I",
        "x",
    ),
    "TYPE_KIND_MISMATCH": (
        {"a": fed2("type Query { t: T }\ntype T { x: Int }"), "b": fed2("type Query { u: T }\ninterface T { x: Int }")},
        None,
        "T",
        None,
    ),
    "FIELD_TYPE_MISMATCH": (
        {
            "a": fed2("type Query { t: T }\ntype T @shareable { x: Int }"),
            "b": fed2("type Query { u: T }\ntype T @shareable { x: String }"),
        },
        None,
        "T",
        "x",
    ),
    "FIELD_ARGUMENT_TYPE_MISMATCH": (
        {
            "a": fed2("type Query { t(a: Int): Int @shareable }"),
            "b": fed2("type Query { t(a: String): Int @shareable }"),
        },
        None,
        "Query",
        "t",
    ),
    "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH": (
        {"a": fed2("type Query { t(a: Int!): Int @shareable }"), "b": fed2("type Query { t: Int @shareable }")},
        "b",
        "Query",
        "t",
    ),
    "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH": (
        {
            "a": fed2("type Query { t(f: F): Int }\ninput F { x: Int! y: Int }"),
            "b": fed2("type Query { u(f: F): Int }\ninput F { y: Int }"),
        },
        "b",
        "F",
        "x",
    ),
    "EMPTY_MERGED_INPUT_TYPE": (
        {
            "a": fed2("type Query { t(f: F): Int }\ninput F { x: Int }"),
            "b": fed2("type Query { u(f: F): Int }\ninput F { y: Int }"),
        },
        None,
        "F",
        None,
    ),
    "ENUM_VALUE_MISMATCH": (
        {"a": fed2("type Query { t(e: E): E }\nenum E { A B }"), "b": fed2("type Query { u: E }\nenum E { A }")},
        "b",
        "E",
        "B",
    ),
    "EXTERNAL_MISSING_ON_BASE": (
        {
            "a": fed2(
                'type Query { me: User }\ntype User @key(fields: "id") { id: ID! n: Int @external '
                'x: Int @requires(fields: "n") }'
            )
        },
        "a",
        "User",
        "n",
    ),
    "INTERFACE_FIELD_NO_IMPLEM": (
        {
            "a": fed2("type Query { n: Node }\ninterface Node { id: ID! }\ntype T implements Node { id: ID! }"),
            "b": fed2("interface Node { id: ID! name: String }"),
        },
        "a",
        "T",
        "name",
    ),
    "NO_QUERIES": ({"a": fed2("type T { x: Int }")}, None, "Query", None),
    "REFERENCED_INACCESSIBLE": (
        {"a": fed2("type Query { t: T }\ntype T @inaccessible { x: Int }")},
        None,
        "Query",
        "t",
    ),
    "REQUIRED_INACCESSIBLE": ({"a": fed2("type Query { t(x: Int! @inaccessible): Int }")}, None, "Query", "t"),
    "ONLY_INACCESSIBLE_CHILDREN": (
        {"a": fed2("type Query { t: T }\ntype T { x: Int @inaccessible }")},
        None,
        "T",
        None,
    ),
    "SATISFIABILITY_ERROR": (
        {
            "a": fed2('type Query { me: User }\ntype User @key(fields: "id") { id: ID! }'),
            "b": fed2('type User @key(fields: "uid") { uid: ID! name: String }'),
        },
        None,
        "User",
        "uid",
    ),
    "INVALID_GRAPHQL": ({"a": "type Query { x: Int "}, "a", None, None),
    "ROOT_QUERY_USED": (
        {"a": fed2("schema { query: Root }\ntype Root { x: Int }\ntype Query { y: Int }")},
        "a",
        "Query",
        None,
    ),
    "CONTEXT_NOT_SET": (
        {
            "a": CONTEXT_LINK
            + 'type Query { t: T }\ntype T @key(fields: "id") { id: ID! x(a: ID @fromContext(field: "$c { id }")): Int }'
        },
        "a",
        "T",
        "x",
    ),
    "NO_CONTEXT_IN_SELECTION": (
        {
            "a": CONTEXT_LINK
            + 'type Query { u: U }\ntype U @context(name: "c") { id: ID! t: T }\ntype T @key(fields: "id") { id: ID! x(a: ID @fromContext(field: "c { id }")): Int }'
        },
        "a",
        "T",
        "x",
    ),
    "CONTEXT_NO_RESOLVABLE_KEY": (
        {
            "a": CONTEXT_LINK
            + 'type Query { u: U }\ntype U @context(name: "c") { id: ID! t: T }\ntype T { id: ID! x(a: ID @fromContext(field: "$c { id }")): Int }'
        },
        "a",
        "T",
        "x",
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_is_reported_with_location(code: str) -> None:
    subgraphs, subgraph, type_name, field_name = CASES[code]
    result = run(**subgraphs)
    assert result.supergraph_sdl is None
    matching = [e for e in result.errors if e.code == code]
    assert matching, [str(e) for e in result.errors]
    error = matching[0]
    if subgraph is not None:
        assert error.subgraph == subgraph
        assert subgraph in error.message or f'"{subgraph}"' in error.message
    if type_name is not None:
        assert error.type_name == type_name
        assert type_name in error.message
    if field_name is not None:
        assert error.field_name == field_name


def test_satisfiability_reports_the_failing_query_path() -> None:
    (subgraphs, *_rest) = CASES["SATISFIABILITY_ERROR"]
    error = next(e for e in run(**subgraphs).errors if e.field_name == "name")
    assert "{ me { name } }" in error.message
    assert '"b" cannot be reached' in error.message


def test_shareable_and_key_fields_may_be_resolved_twice() -> None:
    result = run(
        a=fed2('type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String @shareable }'),
        b=fed2('type User @key(fields: "id") { id: ID! name: String @shareable }'),
    )
    assert result.errors == []
    assert "name: String\n" in (result.supergraph_sdl or "")  # same in every graph: no @join__field


def test_nullability_variance_takes_most_general_output_and_records_each_type() -> None:
    result = run(
        a=fed2("type Query { t: T }\ntype T @shareable { x: Int! }"),
        b=fed2("type Query { u: T }\ntype T @shareable { x: Int }"),
    )
    sdl = result.supergraph_sdl or ""
    assert 'x: Int @join__field(graph: A, type: "Int!") @join__field(graph: B, type: "Int")' in sdl


def test_subtype_variance_interface_vs_implementation() -> None:
    result = run(
        a=fed2(
            "type Query { n: Node @shareable }\ninterface Node { id: ID! }\n"
            'type T implements Node @key(fields: "id") { id: ID! }'
        ),
        b=fed2('type Query { n: T @shareable }\ntype T @key(fields: "id") { id: ID! }'),
    )
    assert result.errors == [], [str(e) for e in result.errors]
    assert '  n: Node @join__field(graph: A, type: "Node") @join__field(graph: B, type: "T")' in (
        result.supergraph_sdl or ""
    )


def test_input_enum_is_intersected_with_a_hint() -> None:
    result = run(
        a=fed2("type Query { t(e: E): Int }\nenum E { A B }"),
        b=fed2("type Query { u(e: E): Int }\nenum E { A }"),
    )
    assert result.errors == []
    assert [h.code for h in result.hints] == ["INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM"]
    assert "  A @join__enumValue(graph: A) @join__enumValue(graph: B)\n}" in (result.supergraph_sdl or "")


def test_federation_prefix_and_import_renames_are_understood() -> None:
    sdl = (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", as: "fd", '
        'import: [{name: "@key", as: "@primaryKey"}])\n'
        'type Query { me: User }\ntype User @primaryKey(fields: "id") { id: ID! name: String @fd__shareable }\n'
    )
    other = fed2('type User @key(fields: "id") { id: ID! name: String @shareable }')
    result = run(a=sdl, b=other)
    assert result.errors == [], [str(e) for e in result.errors]
    assert '@join__type(graph: A, key: "id")' in (result.supergraph_sdl or "")


def test_fed1_extension_keys_are_resolvable_and_fields_shareable() -> None:
    result = run(
        users='type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }',
        reviews='extend type User @key(fields: "id") { id: ID! @external name: String reviews: [Int] }',
    )
    assert result.errors == [], [str(e) for e in result.errors]
    sdl = result.supergraph_sdl or ""
    assert '@join__type(graph: REVIEWS, key: "id", extension: true)' in sdl
    assert "  id: ID!\n" in sdl  # key field not external anywhere


def test_override_marks_source_used_overridden_when_it_is_a_key() -> None:
    result = run(
        a=fed2('type Query { p: P }\ntype P @key(fields: "id") @key(fields: "sku") { id: ID! sku: String }'),
        b=fed2('type P @key(fields: "id") { id: ID! sku: String @override(from: "a") }'),
    )
    assert result.errors == [], [str(e) for e in result.errors]
    assert ('sku: String @join__field(graph: A, usedOverridden: true) @join__field(graph: B, override: "a")') in (
        result.supergraph_sdl or ""
    )


def test_override_marks_source_used_overridden_when_it_implements_an_interface_field() -> None:
    # Apollo's composer keeps the source field (usedOverridden) when it implements an interface field there.
    result = run(
        a=fed2(
            "type Query { items: [Item] }\ninterface Item { id: ID! price: Int }\n"
            'type Book implements Item @key(fields: "id") { id: ID! price: Int }'
        ),
        b=fed2('type Book @key(fields: "id") { id: ID! price: Int @override(from: "a") }'),
    )
    assert result.errors == [], [str(e) for e in result.errors]
    assert 'price: Int @join__field(graph: A, usedOverridden: true) @join__field(graph: B, override: "a")' in (
        result.supergraph_sdl or ""
    )


def test_override_on_an_interface_object_field_is_refused() -> None:
    # Apollo's composer: "@override is not yet supported on fields of @interfaceObject types".
    result = run(
        a=fed2(
            'type Query { n: Node }\ninterface Node @key(fields: "id") { id: ID! }\n'
            'type A implements Node @key(fields: "id") { id: ID! x: Int }'
        ),
        b=fed2('type Node @key(fields: "id") @interfaceObject { id: ID! x: Int @override(from: "a") }'),
    )
    assert "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE" in [e.code for e in result.errors]
    assert result.supergraph_sdl is None


def test_progressive_override_label_is_printed_on_both_sides() -> None:
    label_link = fed2("").replace("federation/v2.3", "federation/v2.7")
    result = run(
        a=label_link + 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! n: Int }',
        b=label_link + 'type P @key(fields: "id") { id: ID! n: Int @override(from: "a", label: "percent(5)") }',
    )
    assert result.errors == [], [str(e) for e in result.errors]
    assert (
        'n: Int @join__field(graph: A, overrideLabel: "percent(5)") '
        '@join__field(graph: B, override: "a", overrideLabel: "percent(5)")'
    ) in (result.supergraph_sdl or "")


def test_satisfiability_needs_the_context_on_every_path() -> None:
    # Transaction.display reads the user's currency: reachable under User it composes, but a root field returning
    # Transaction (no User above it), or the context set only on the field's own type, cannot be satisfied.
    ledger = (
        'type User @key(fields: "id") @context(name: "c") { id: ID! currency: String! transactions: [Transaction!]! }\n'
        'type Transaction @key(fields: "id") { id: ID! display(cur: String @fromContext(field: "$c { currency }")): '
        "String }\n"
    )
    assert run(a=CONTEXT_LINK + "type Query { users: [User!]! }\n" + ledger).errors == []
    result = run(a=CONTEXT_LINK + "type Query { users: [User!]! transaction: Transaction }\n" + ledger)
    [error] = result.errors
    assert error.code == "SATISFIABILITY_ERROR" and (error.type_name, error.field_name) == ("Transaction", "display")
    assert "{ transaction { display } }" in error.message and "required context" in error.message
    own = CONTEXT_LINK + (
        'type Query { t: T }\ntype T @key(fields: "id") @context(name: "c") { id: ID! '
        'x(a: ID @fromContext(field: "$c { id }")): Int }'
    )
    assert [e.code for e in run(a=own).errors] == ["SATISFIABILITY_ERROR"]


# External field types as Apollo's composer (@apollo/composition 2.14) judges them: the owner's type exactly; any
# subtype of the merged type only when the owners' types differ. name -> (owners' types, external type, refused)
EXTERNAL_TYPES: dict[str, tuple[list[str], str, bool]] = {
    "same": (["Int!"], "Int!", False),
    "nullable_for_non_null": (["Int!"], "Int", True),  # schema/transactions.graphql had this (Meter.powerVa)
    "non_null_for_nullable": (["Int"], "Int!", True),
    "list_items_nullable": (["[Int!]"], "[Int]", True),
    "owners_differ_merged_type": (["Int!", "Int"], "Int", False),
    "owners_differ_subtype": (["[Int!]", "[Int]"], "[Int!]!", False),
    "owners_agree_subtype": (["Int", "Int"], "Int!", True),
    "owners_agree_supertype": (["Int!", "Int!"], "Int", True),
}


@pytest.mark.parametrize("name", sorted(EXTERNAL_TYPES))
def test_external_field_type_as_apollo_judges_it(name: str) -> None:
    owners, external, refused = EXTERNAL_TYPES[name]
    sdls = {
        f"o{i}": fed2(
            ("type Query { u: U }\n" if i == 0 else "") + f'type U @key(fields: "id") {{ id: ID! n: {t} @shareable }}'
        )
        for i, t in enumerate(owners)
    }
    sdls["x"] = fed2(f'type U @key(fields: "id") {{ id: ID! n: {external} @external m: Int @requires(fields: "n") }}')
    codes = [e.code for e in run(**sdls).errors]
    assert codes == (["EXTERNAL_TYPE_MISMATCH"] if refused else []), codes


def _link(version: str, *imports: str) -> str:
    names = ", ".join(f'"@{i}"' for i in imports)
    return f'extend schema @link(url: "https://specs.apollo.dev/federation/v{version}", import: [{names}])\n'


# Directives and arguments newer than the subgraph's federation @link, as Apollo's composer (2.14) refuses them.
# name -> (subgraphs, the code, or None when it composes)
VERSIONED: dict[str, tuple[dict[str, str], str | None]] = {
    "override_label_before_2_7": (
        {
            "a": _link("2.3", "key") + 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! n: Int }',
            "b": _link("2.3", "key", "override")
            + 'type P @key(fields: "id") { id: ID! n: Int @override(from: "a", label: "percent(5)") }',
        },
        "INVALID_GRAPHQL",
    ),
    "interface_object_before_2_3": (
        {
            "a": _link("2.3", "key") + 'type Query { n: Node }\ninterface Node @key(fields: "id") { id: ID! }\n'
            'type A implements Node @key(fields: "id") { id: ID! }',
            "b": _link("2.1", "key", "interfaceObject")
            + 'type Node @key(fields: "id") @interfaceObject { id: ID! x: Int }',
        },
        "INVALID_LINK_DIRECTIVE_USAGE",
    ),
    "authenticated_before_2_5": (
        {"a": _link("2.3", "authenticated") + "type Query { p: Int @authenticated }"},
        "INVALID_LINK_DIRECTIVE_USAGE",
    ),
    "authenticated_on_2_5": ({"a": _link("2.5", "authenticated") + "type Query { p: Int @authenticated }"}, None),
    "context_before_2_8": (
        {"a": _link("2.7", "context", "fromContext") + "type Query { p: Int }"},
        "INVALID_LINK_DIRECTIVE_USAGE",
    ),
    "cost_before_2_9": (
        {"a": _link("2.8", "cost") + "type Query { p: Int @cost(weight: 2) }"},
        "INVALID_LINK_DIRECTIVE_USAGE",
    ),
}


@pytest.mark.parametrize("name", sorted(VERSIONED))
def test_directive_newer_than_the_link_is_refused(name: str) -> None:
    subgraphs, code = VERSIONED[name]
    codes = sorted({e.code for e in run(**subgraphs).errors})
    assert codes == ([code] if code else []), codes


def test_list_key_fields_compose_as_in_apollos_composer() -> None:
    # Apollo's composer 2.14 accepts a list in a key (only interfaces and unions are KEY_FIELDS_SELECT_INVALID_TYPE);
    # the router sends the list in the representation like any other key value.
    result = run(
        a=fed2('type Query { u: User }\ntype User @key(fields: "ids") { ids: [ID!]! n: Int }'),
        b=fed2('type User @key(fields: "ids") { ids: [ID!]! m: Int }'),
    )
    assert result.errors == [], [str(e) for e in result.errors]
    assert '@join__type(graph: B, key: "ids")' in (result.supergraph_sdl or "")
    load_supergraph(result.supergraph_sdl or "")
