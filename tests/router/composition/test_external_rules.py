"""@external rules against Apollo's composer: each case is a small subgraph set and the error codes Apollo's
composition (``@apollo/composition`` 2.14) reports for it, recorded when the case was written; ours must report the
same codes (``[]``: it composes). docs/router.md §5.2 Subgraph rules and §5.3 Merge rules.
"""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

FED2 = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", '
    '"@external", "@requires", "@provides", "@interfaceObject", "@extends"])\n'
)
ITF = FED2 + (
    'type Query { n: Node }\ninterface Node @key(fields: "id") { id: ID! }\n'
    'type A implements Node @key(fields: "id") { id: ID! }\n'
)
IO_REQUIRES_X = (
    FED2 + 'type Node @key(fields: "id") @interfaceObject { id: ID! x: Int @external y: Int @requires(fields: "x") }'
)
OWNER = (
    FED2
    + 'type Query { u: User }\ntype User @key(fields: "id") { id: ID! name: String @shareable age: Int @shareable }'
)
TYPE_EXTERNAL = FED2 + 'type Query { x: Int }\ntype User @key(fields: "id") @external { id: ID! name: String }'

# name -> (subgraph name -> full SDL, Apollo's error codes)
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    # An @interfaceObject field @external in every graph that lists it on the interface has no base; an
    # implementation's own field does not count (we used to accept these).
    "interface_object_external_everywhere": ({"a": ITF, "b": IO_REQUIRES_X}, ["EXTERNAL_MISSING_ON_BASE"]),
    "interface_object_external_in_two_interface_objects": (
        {
            "a": ITF,
            "b": IO_REQUIRES_X,
            "c": FED2 + 'type Node @key(fields: "id") @interfaceObject { id: ID! x: Int @external '
            'z: Int @requires(fields: "x") }',
        },
        ["EXTERNAL_MISSING_ON_BASE"],
    ),
    "interface_object_external_defined_on_implementation_only": (
        {
            "a": ITF.replace(
                'type A implements Node @key(fields: "id") { id: ID! }',
                'type A implements Node @key(fields: "id") { id: ID! x: Int }',
            ),
            "b": IO_REQUIRES_X,
        },
        ["EXTERNAL_MISSING_ON_BASE"],
    ),
    "interface_object_external_provided": (
        {
            "a": ITF,
            "b": FED2 + 'type Query { m: Node @provides(fields: "x") }\n'
            'type Node @key(fields: "id") @interfaceObject { id: ID! x: Int @external }',
        },
        ["EXTERNAL_MISSING_ON_BASE"],
    ),
    "interface_object_external_defined_in_another_interface_object": (
        {"a": ITF, "b": IO_REQUIRES_X, "c": FED2 + 'type Node @key(fields: "id") @interfaceObject { id: ID! x: Int }'},
        [],
    ),
    "interface_object_external_defined_on_interface": (
        {
            "a": FED2 + 'type Query { n: Node }\ninterface Node @key(fields: "id") { id: ID! x: Int }\n'
            'type A implements Node @key(fields: "id") { id: ID! x: Int }\n',
            "b": IO_REQUIRES_X,
        },
        [],
    ),
    "interface_object_external_key": (
        {"a": ITF, "b": FED2 + 'type Node @key(fields: "id") @interfaceObject { id: ID! @external y: Int }'},
        [],
    ),
    # Fed2 @external on an object type makes each of its fields external (definition and extensions); we used to
    # ignore it. Only object types take it; Fed1 type-level @external stays accepted.
    "type_external_field_unused": ({"own": OWNER, "a": TYPE_EXTERNAL}, ["EXTERNAL_UNUSED"]),
    "type_external_key_field_only": (
        {"own": OWNER, "a": FED2 + 'type Query { x: Int }\ntype User @key(fields: "id") @external { id: ID! }'},
        [],
    ),
    "type_external_covers_its_extension": (
        {"own": OWNER, "a": TYPE_EXTERNAL + '\nextend type User { greeting: String @requires(fields: "name") }'},
        ["EXTERNAL_UNUSED"],
    ),
    "type_external_on_extension": (
        {
            "own": OWNER,
            "a": FED2 + 'type Query { x: Int }\nextend type User @key(fields: "id") @external { id: ID! name: String }',
        },
        ["EXTERNAL_UNUSED"],
    ),
    "type_external_value_type_provided": (
        {
            "own": FED2 + 'type Query { u: U }\ntype U @key(fields: "id") { id: ID! o: O @shareable }\n'
            "type O @shareable { n: Int }",
            "a": FED2 + 'type Query { r: U @provides(fields: "o { n }") }\n'
            'type U @key(fields: "id") { id: ID! o: O @external }\ntype O @external { n: Int }',
        },
        [],
    ),
    "type_external_no_base": (
        {
            "own": FED2 + "type Query { y: Int }",
            "a": FED2 + 'type Query { x: User @provides(fields: "name") }\n'
            'type User @key(fields: "id") @external { id: ID! name: String }',
        },
        ["EXTERNAL_MISSING_ON_BASE"],
    ),
    "type_external_extends_key": (
        {
            "own": OWNER,
            "a": FED2 + 'type Query { x: User @provides(fields: "name") }\n'
            'type User @key(fields: "id") @extends @external { id: ID! name: String }',
        },
        [],
    ),
    "type_external_on_interface": (
        {
            "own": FED2 + "type Query { i: I }\ninterface I { x: Int }\ntype A implements I @shareable { x: Int }",
            "a": FED2 + "type Query { y: Int }\ninterface I @external { x: Int }",
        },
        ["INVALID_GRAPHQL"],
    ),
    "fed1_type_external": (
        {
            "own": OWNER,
            "a": 'type Query { x: User @provides(fields: "name") }\n'
            'extend type User @key(fields: "id") @external { id: ID! name: String }',
        },
        [],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_verdict_as_apollos_composer(name: str) -> None:
    subgraphs, codes = CASES[name]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", sdl) for n, sdl in subgraphs.items()])
    assert sorted({e.code for e in result.errors}) == sorted(codes), [str(e) for e in result.errors]
    assert (result.supergraph_sdl is None) == bool(codes)


def test_interface_object_external_everywhere_names_the_field() -> None:
    subgraphs, _ = CASES["interface_object_external_everywhere"]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", sdl) for n, sdl in subgraphs.items()])
    [error] = result.errors
    assert (error.code, error.subgraph, error.type_name, error.field_name) == (
        "EXTERNAL_MISSING_ON_BASE",
        "b",
        "Node",
        "x",
    )


# An @external copy declares the resolving graphs' arguments: same presence, type and default. Each case: (arguments
# in the owner "a" (or "a" and "c"), arguments on b's @external copy) -> Apollo's composer 2.14 (code, message).
def _argument_case(owner: str, external: str, owners: tuple[str, ...] = ("a",)) -> dict[str, str]:
    sdls = {
        name: FED2
        + ("type Query { t: T }\n" if name == "a" else "")
        + f'type T @key(fields: "id") {{ id: ID! x{owner}: Int @shareable }}'
        for name in owners
    }
    sdls["b"] = (
        FED2 + f'type T @key(fields: "id") {{ id: ID! x{external}: Int @external y: Int @requires(fields: "x") }}'
    )
    return sdls


EXTERNAL_ARGUMENTS: dict[str, tuple[dict[str, str], tuple[str, str] | None]] = {
    "missing": (
        _argument_case("(a: Int)", "", ("a", "c")),
        (
            "EXTERNAL_ARGUMENT_MISSING",
            'Field "T.x" is missing argument "T.x(a:)" in some subgraphs where it is marked @external: argument '
            '"T.x(a:)" is declared in subgraphs "a" and "c" but not in subgraph "b" (where "T.x" is @external).',
        ),
    ),
    "type": (
        _argument_case("(a: Int)", "(a: String)"),
        (
            "EXTERNAL_ARGUMENT_TYPE_MISMATCH",
            'Type of argument "T.x(a:)" is incompatible across subgraphs (where "T.x" is marked @external): it has '
            'type "Int" in subgraph "a" but type "String" in subgraph "b"',
        ),
    ),
    "default": (
        _argument_case("(a: Int = 1)", "(a: Int)"),
        (
            "EXTERNAL_ARGUMENT_DEFAULT_MISMATCH",
            'Argument "T.x(a:)" has incompatible defaults across subgraphs (where "T.x" is marked @external): it '
            'has default value 1 in subgraph "a" but no default value in subgraph "b"',
        ),
    ),
    "extra_on_the_external_copy": (_argument_case("", "(a: Int)"), None),
    # a required argument the @requires selection does not give: Apollo reports the @requires (same code and words;
    # ours puts the location "T.y: " after the subgraph, as every per-subgraph rule here does)
    "required_on_the_external_copy": (
        _argument_case("(a: Int)", "(a: Int!)"),
        (
            "REQUIRES_INVALID_FIELDS",
            '[b] T.y: On field "T.y", for @requires(fields: "x"): Missing mandatory value for argument "a" of field '
            '"T.x" in selection "x"',
        ),
    ),
    "same": (_argument_case("(a: Int = 1)", "(a: Int = 1)"), None),
}


@pytest.mark.parametrize("name", EXTERNAL_ARGUMENTS)
def test_external_arguments_match_apollo(name: str) -> None:
    sdls, expected = EXTERNAL_ARGUMENTS[name]
    result = compose([SubgraphSource(n, f"http://{n}/graphql", sdl) for n, sdl in sdls.items()])
    assert [(e.code, e.message) for e in result.errors] == ([expected] if expected else [])
