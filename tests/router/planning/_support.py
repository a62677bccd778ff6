"""Helpers for plan tests: load fixture sets, build subgraph schemas to validate fetches."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import (
    DirectiveDefinitionNode,
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaExtensionNode,
    build_ast_schema,
    parse,
    print_ast,
)

from router.supergraph import Supergraph, load_supergraph

SETS = Path(__file__).resolve().parents[2] / "fixtures" / "subgraph_sets"
# The public benchmark's subgraphs live once, with the benchmark that runs them
# (bench/README.md §The public benchmark workload).
PEERS_BENCH = Path(__file__).resolve().parents[3] / "bench" / "peers"


def set_dir(name: str) -> Path:
    """The folder of a subgraph set: ``<name>.graphql`` per subgraph and the composed ``supergraph.graphql``."""
    return PEERS_BENCH if name == "peers_bench" else SETS / name


_FEDERATION_DEFS = """
scalar _Any
scalar FieldSet
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @requires(fields: FieldSet!) on FIELD_DEFINITION
directive @provides(fields: FieldSet!) on FIELD_DEFINITION
directive @external on OBJECT | FIELD_DEFINITION
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
directive @override(from: String!, label: String) on FIELD_DEFINITION
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @interfaceObject on OBJECT
"""


@cache
def supergraph(name: str) -> Supergraph:
    return load_supergraph((set_dir(name) / "supergraph.graphql").read_text())


@cache
def subgraph_schema(set_name: str, graph: str) -> GraphQLSchema:
    """The subgraph's schema as its server would expose it (with ``_entities``)."""
    doc = parse((set_dir(set_name) / f"{graph}.graphql").read_text())
    defs = [d for d in doc.definitions if not isinstance(d, (SchemaExtensionNode, DirectiveDefinitionNode))]
    defined = {d.name.value for d in defs if isinstance(d, ObjectTypeDefinitionNode)}
    # Fed1 subgraphs extend types they do not define (``extend type Product @key``)
    defs = [
        ObjectTypeDefinitionNode(name=d.name, interfaces=d.interfaces, directives=d.directives, fields=d.fields)
        if isinstance(d, ObjectTypeExtensionNode) and d.name.value not in defined
        else d
        for d in defs
    ]
    entities: list[str] = []
    has_query = False
    for d in defs:
        if isinstance(d, ObjectTypeDefinitionNode):
            if d.name.value == "Query":
                has_query = True
            if any(x.name.value == "key" for x in d.directives or ()):
                entities.append(d.name.value)
    sdl = "\n".join(print_ast(d) for d in defs) + _FEDERATION_DEFS
    if entities:
        sdl += f"\nunion _Entity = {' | '.join(entities)}\n"
        sdl += (
            "extend type Query" if has_query else "type Query"
        ) + " { _entities(representations: [_Any!]!): [_Entity]! }\n"
    return build_ast_schema(parse(sdl))
