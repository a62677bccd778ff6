"""@external rules against Apollo's composer: each case is a small subgraph set and the error codes Apollo's
composition (``@apollo/composition`` 2.14) reports for it, recorded when the case was written; ours must report the
same codes (``[]``: it composes). docs/router.md §5.2 Subgraph rules and §5.3 Merge rules.
"""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose

FED2 = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", '
    '"@external", "@requires", "@provides", "@interfaceObject"])\n'
)
ITF = FED2 + (
    'type Query { n: Node }\ninterface Node @key(fields: "id") { id: ID! }\n'
    'type A implements Node @key(fields: "id") { id: ID! }\n'
)
IO_REQUIRES_X = (
    FED2 + 'type Node @key(fields: "id") @interfaceObject { id: ID! x: Int @external y: Int @requires(fields: "x") }'
)

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
