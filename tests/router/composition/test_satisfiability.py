"""Satisfiability against Apollo's composer: each case is a small subgraph set and the error codes Apollo's
composition (``@apollo/composition``) reports for it, recorded when the case was written; ours must report the same
codes (``[]``: it composes). docs/router.md §5.5 Satisfiability."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@external", "@requires", '
    '"@provides", "@shareable", "@interfaceObject", "@context", "@fromContext", "@inaccessible"])\n'
)

# name -> (subgraph name -> SDL body, Apollo's error codes)
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "key_unreachable_field": (
        {
            "a": 'type Query { me: User }\ntype User @key(fields: "id") { id: ID! }',
            "b": 'type User @key(fields: "uid") { uid: ID! name: String }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "requires_from_unreachable": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! }',
            "b": 'type P @key(fields: "id") { id: ID! w: Int @external total: Int @requires(fields: "w") }',
            "c": 'type P @key(fields: "sku", resolvable: false) { sku: ID! w: Int }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "shared_value_field_only_in_b": (
        {
            "a": "type Query { s: S @shareable }\ntype S @shareable { x: Int }",
            "b": "type Query { s: S @shareable }\ntype S @shareable { x: Int y: Int }",
        },
        [],
    ),
    "value_below_entity_b_only": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! d: D @shareable }\ntype D @shareable { x: Int }',
            "b": 'type P @key(fields: "id") { id: ID! d: D @shareable }\ntype D @shareable { x: Int y: Int }',
        },
        [],
    ),
    "interface_impl_field_elsewhere": (
        {
            "a": 'type Query { n: [Node] }\ninterface Node { id: ID! }\ntype A implements Node @key(fields: "id") { id: ID! }',
            "b": 'type A @key(fields: "id") { id: ID! name: String }',
        },
        [],
    ),
    "union_member_unreachable": (
        {
            "a": 'type Query { u: U }\nunion U = A\ntype A @key(fields: "id", resolvable: false) { id: ID! }',
            "b": 'type A @key(fields: "id", resolvable: false) { id: ID! name: String }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "provides_then_other": (
        {
            "a": 'type Query { r: R }\ntype R @key(fields: "id") { id: ID! u: U @provides(fields: "name") }\ntype U @key(fields: "id", resolvable: false) { id: ID! name: String @external }',
            "b": 'type U @key(fields: "id", resolvable: false) { id: ID! name: String age: Int }',
        },
        ["INVALID_FIELD_SHARING"],
    ),
    "key_chain_ok": (
        {
            "a": 'type Query { u: U }\ntype U @key(fields: "id") { id: ID! }',
            "b": 'type U @key(fields: "id") @key(fields: "ssn") { id: ID! ssn: ID! }',
            "c": 'type U @key(fields: "ssn") { ssn: ID! age: Int }',
        },
        [],
    ),
    "requires_cycle_self": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! x: Int @shareable }',
            "b": 'type P @key(fields: "id") { id: ID! x: Int @external y: Int @requires(fields: "x") }',
        },
        [],
    ),
    "interface_object_nonresolvable": (
        {
            "a": 'type Query { n: Node }\ninterface Node @key(fields: "id") { id: ID! }\ntype A implements Node @key(fields: "id") { id: ID! }',
            "b": 'type Node @key(fields: "id", resolvable: false) @interfaceObject { id: ID! extra: Int }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "entity_interface_b_only": (
        {
            "a": 'type Query { n: Node }\ninterface Node @key(fields: "id") { id: ID! }\ntype A implements Node @key(fields: "id") { id: ID! }',
            "b": 'type Node @key(fields: "id") @interfaceObject { id: ID! extra: Int }',
        },
        [],
    ),
    "mutation_entity_field": (
        {
            "a": 'type Query { x: Int }\ntype Mutation { m: P }\ntype P @key(fields: "id") { id: ID! }',
            "b": 'type P @key(fields: "id") { id: ID! n: Int }',
        },
        [],
    ),
    "nested_key_unavailable": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! }',
            "b": 'type P @key(fields: "id org { id }") { id: ID! org: O n: Int }\ntype O { id: ID! }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "requires_nested_ok": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! o: O }\ntype O @shareable { w: Int }',
            "b": 'type P @key(fields: "id") { id: ID! o: O @external t: Int @requires(fields: "o { w }") }\ntype O @shareable { w: Int }',
        },
        [],
    ),
    # A requirement is planned like any selection: `m` from a, then `B.isbn` from c through B's key (used to be
    # refused: we wanted one graph to resolve the whole `m { ... on B { isbn } }`).
    "requires_nested_entity_jump": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! m: M }\nunion M = B\n'
            'type B @key(fields: "id") { id: ID! }',
            "b": 'type P @key(fields: "id") { id: ID! m: M @external t: Int @requires(fields: "m { ... on B { isbn } }") }'
            '\nunion M = B\ntype B @key(fields: "id") { id: ID! isbn: String @external }',
            "c": 'type B @key(fields: "id") { id: ID! isbn: String }',
        },
        [],
    ),
    "requires_nested_object_entity_jump": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! o: O }\ntype O @key(fields: "id") { id: ID! }',
            "b": 'type P @key(fields: "id") { id: ID! o: O @external t: Int @requires(fields: "o { w }") }\n'
            'type O @key(fields: "id") { id: ID! w: Int @external }',
            "c": 'type O @key(fields: "id") { id: ID! w: Int }',
        },
        [],
    ),
    # ... and a shareable value type's fields from different graphs (`x` from a, `y` from c).
    "requires_nested_value_split": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! o: O @shareable }\ntype O @shareable { x: Int }',
            "c": 'type P @key(fields: "id") { id: ID! o: O @shareable }\ntype O @shareable { y: Int }',
            "b": 'type P @key(fields: "id") { id: ID! o: O @external t: Int @requires(fields: "o { x y }") }\n'
            "type O { x: Int @external y: Int @external }",
        },
        [],
    ),
    "requires_nested_entity_unreachable": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! m: M }\nunion M = B\n'
            'type B @key(fields: "id") { id: ID! }',
            "b": 'type P @key(fields: "id") { id: ID! m: M @external t: Int @requires(fields: "m { ... on B { isbn } }") }'
            '\nunion M = B\ntype B @key(fields: "id") { id: ID! isbn: String @external }',
            "c": 'type B @key(fields: "sku", resolvable: false) { sku: ID! isbn: String }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    # Abstract types (issue 14, class 5): downcasts below an @interfaceObject go through the real interface's graph,
    # and implementation fields are checked in every graph that can return the implementation.
    "abstract_iobj_downcast_unreachable_field": (
        {
            "a": 'type Query { x: Int }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }',
            "b": 'type Query { i: I }\ntype I @key(fields: "id") @interfaceObject { id: ID! extra: Int }',
            "c": "type A @shareable { id: ID! n: Int }",
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "abstract_iobj_downcast_ok": (
        {
            "a": 'type Query { x: Int }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! n: Int }',
            "b": 'type Query { i: I }\ntype I @key(fields: "id") @interfaceObject { id: ID! extra: Int }',
        },
        [],
    ),
    "abstract_iobj_downcast_field_in_third_keyed": (
        {
            "a": 'type Query { x: Int }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }',
            "b": 'type Query { i: I }\ntype I @key(fields: "id") @interfaceObject { id: ID! extra: Int }',
            "c": 'type A @key(fields: "id") { id: ID! n: Int }',
        },
        [],
    ),
    "abstract_iobj_downcast_value_field_below": (
        {
            "a": 'type Query { x: Int }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! v: V }\ntype V { a: Int }',
            "b": 'type Query { i: I }\ntype I @key(fields: "id") @interfaceObject { id: ID! extra: Int }',
        },
        [],
    ),
    "abstract_impl_value_field_other_graph": (
        {
            "a": "type Query { i: I }\ninterface I { id: ID! }\ntype A implements I @shareable { id: ID! }",
            "b": "type Query { j: Int }\ninterface I { id: ID! name: String }\ntype A implements I @shareable { id: ID! name: String }",
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "abstract_union_shared_root_member_field_one_graph": (
        {
            "a": "type Query { u: U @shareable }\nunion U = A\ntype A @shareable { id: ID! }",
            "b": "type Query { u: U @shareable }\nunion U = A\ntype A @shareable { id: ID! n: Int }",
        },
        [],
    ),
    "abstract_union_member_only_b_no_key_root_a": (
        {
            "a": 'type Query { u: U }\nunion U = A\ntype A @key(fields: "id") { id: ID! }',
            "b": 'type Query { x: Int }\nunion U = A | B\ntype A @key(fields: "id") { id: ID! }\ntype B { id: ID! }',
        },
        [],
    ),
    "abstract_iface_field_from_entity_nested": (
        {
            "a": 'type Query { p: P }\ntype P @key(fields: "id") { id: ID! }',
            "b": 'type P @key(fields: "id") { id: ID! m: [M] }\ninterface M { id: ID! }\ntype X implements M @key(fields: "id") { id: ID! }',
            "c": 'type X @key(fields: "id") { id: ID! extra: Int }\ntype Y { z: Int }',
        },
        [],
    ),
    "abstract_provides_fragment_on_interface": (
        {
            "a": 'type Query { i: I @provides(fields: "... on A { n }") }\ninterface I { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! n: Int @external }',
            "b": 'type A @key(fields: "id") { id: ID! n: Int @shareable }',
        },
        [],
    ),
    "abstract_iface_in_b_impl_key_not_resolvable_field_in_c": (
        {
            "a": 'type Query { i: [I] }\ninterface I { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }',
            "b": 'type A @key(fields: "id", resolvable: false) { id: ID! secret: Int }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "abstract_interface_object_field_with_impl_known_in_b_only": (
        {
            "a": 'type Query { a: [I] }\ninterface I @key(fields: "id") { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }',
            "b": 'type I @key(fields: "id") @interfaceObject { id: ID! extra: Int }',
        },
        [],
    ),
    "abstract_iface_root_b_partial_impls": (
        {
            "a": 'type Query { a: Int }\ninterface I { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! x: Int }\ntype B implements I @key(fields: "id") { id: ID! y: Int }',
            "b": 'type Query { i: [I] }\ninterface I { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! }',
        },
        [],
    ),
    "abstract_iface_field_direct_impl_value_type": (
        {
            "a": "type Query { i: I @shareable }\ninterface I { id: ID! n: Int }\ntype A implements I @shareable { id: ID! n: Int }",
            "b": "type Query { i: I @shareable }\ninterface I { id: ID! }\ntype A implements I @shareable { id: ID! }",
        },
        [],
    ),
    "abstract_union_members_split_keys": (
        {
            "a": 'type Query { u: [U] }\nunion U = A\ntype A @key(fields: "id") { id: ID! }',
            "b": 'type Query { v: [U] }\nunion U = A | B\ntype A @key(fields: "id") { id: ID! n: Int }\ntype B @key(fields: "id") { id: ID! m: Int }',
        },
        [],
    ),
    "abstract_provides_iface_partial": (
        {
            "a": 'type Query { a: Int }\ntype A @key(fields: "id") { id: ID! n: Int @shareable m: Int }',
            "b": 'type Query { i: I @provides(fields: "... on A { n }") }\ninterface I { id: ID! }\ntype A implements I @key(fields: "id", resolvable: false) { id: ID! n: Int @external }',
        },
        [],
    ),
    "abstract_provides_iface_m_unreachable": (
        {
            "a": 'type Query { a: Int }\ntype A @key(fields: "id", resolvable: false) { id: ID! n: Int @shareable m: Int }',
            "b": 'type Query { i: I @provides(fields: "... on A { n }") }\ninterface I { id: ID! }\ntype A implements I @key(fields: "id", resolvable: false) { id: ID! n: Int @external }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "abstract_iobj_requires": (
        {
            "a": 'type Query { i: I }\ninterface I @key(fields: "id") { id: ID! w: Int }\ntype A implements I @key(fields: "id") { id: ID! w: Int }',
            "b": 'type I @key(fields: "id") @interfaceObject { id: ID! w: Int @external t: Int @requires(fields: "w") }',
        },
        [],
    ),
    "abstract_nested_iface": (
        {
            "a": 'type Query { i: I }\ninterface I { j: J }\ninterface J { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! j: J }\ntype X implements J @key(fields: "id") { id: ID! }',
            "b": 'type X @key(fields: "id") { id: ID! more: Int }\ntype A @key(fields: "id") { id: ID! extra: Int }',
        },
        [],
    ),
    "abstract_nested_iface_unreachable": (
        {
            "a": 'type Query { i: I }\ninterface I { j: J }\ninterface J { id: ID! }\ntype A implements I @key(fields: "id") { id: ID! j: J }\ntype X implements J @key(fields: "id") { id: ID! }',
            "b": 'type X @key(fields: "id", resolvable: false) { id: ID! more: Int }',
        },
        ["SATISFIABILITY_ERROR"],
    ),
    "abstract_inaccessible_impl": (
        {
            "a": 'type Query { i: I }\ninterface I { id: ID! }\ntype A implements I @key(fields: "id") @inaccessible { id: ID! }\ntype B implements I { id: ID! }',
            "b": 'type A @key(fields: "id", resolvable: false) { id: ID! secret: Int }',
        },
        [],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_verdict_as_apollos_composer(name: str) -> None:
    subgraphs, codes = CASES[name]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", LINK + sdl) for n, sdl in subgraphs.items()])
    assert sorted({e.code for e in result.errors}) == sorted(codes), [str(e) for e in result.errors]
    assert (result.supergraph_sdl is None) == bool(codes)


def test_unreachable_interface_object_field_names_the_path() -> None:
    subgraphs, _ = CASES["interface_object_nonresolvable"]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", LINK + sdl) for n, sdl in subgraphs.items()])
    [error] = result.errors
    assert (error.type_name, error.field_name) == ("A", "extra")
    assert "{ n { ... on A { extra } } }" in error.message and "@interfaceObject" in error.message


def test_downcast_below_an_interface_object_is_checked() -> None:
    """``{ i { ... on A { n } } }``: ``i`` returns an @interfaceObject, so ``A`` is reached only through graph a's
    real interface, and ``A.n`` lives in c without a key. Apollo's composer refuses it; no root of a leads to ``A``,
    so only the interface-object path finds it."""
    subgraphs, _ = CASES["abstract_iobj_downcast_unreachable_field"]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", LINK + sdl) for n, sdl in subgraphs.items()])
    [error] = result.errors
    assert (error.code, error.type_name, error.field_name) == ("SATISFIABILITY_ERROR", "A", "n")
    assert "{ i { ... on A { n } } }" in error.message and '"c" cannot be reached' in error.message
