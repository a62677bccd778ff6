"""load_supergraph: join tables, @link renames, Fed1 (join v0.1), unsupported features."""

from __future__ import annotations

import pytest
from graphql import parse

from router.planning import build_query_plan, plan_to_text
from router.supergraph import SupergraphError, load_supergraph

from ._sets import SETS, supergraph


def test_subgraphs_are_listed_with_urls_and_enum_values() -> None:
    sg = supergraph("entities")
    assert list(sg.subgraphs) == ["products", "reviews", "users"]
    assert sg.subgraphs["reviews"].url == "http://reviews.local/graphql"
    assert sg.subgraphs["reviews"].enum_value == "REVIEWS"


def test_keys_resolvable_and_composite() -> None:
    sg = supergraph("keys")
    assert [k.fields for k in sg.keys("b", "User")] == ["id", "login"]
    assert sg.keys("e", "User") == []  # resolvable: false keys are never jump targets
    assert [k.resolvable for k in sg.keys("e", "User", resolvable_only=False)] == [False, False]
    assert sg.keys("c", "User")[0].fields == "org { id } login"
    assert sg.is_entity("User")


def test_field_resolvability_external_requires_provides() -> None:
    sg = supergraph("requires")
    assert sg.resolving_graphs("Product", "price") == ["catalog"]  # shipping has it @external
    shipping_cost = sg.field_in_graph("shipping", "Product", "shippingCost")
    assert shipping_cost is not None and shipping_cost.requires == "price weight"
    pv = supergraph("provides")
    assert pv.resolving_graphs("User", "name") == ["users"]
    author = pv.field_in_graph("reviews", "Review", "author")
    assert author is not None and author.provides == "name"


def test_override_and_progressive_labels() -> None:
    sg = supergraph("override")
    assert sg.resolving_graphs("Product", "price") == ["pricing"]
    assert sg.resolving_graphs("Product", "name") == ["pricing"]  # override from a graph that does not exist
    assert sg.resolving_graphs("Product", "stock") == ["catalog"]
    assert sg.resolving_graphs("Product", "stock", frozenset({"percent(50)"})) == ["pricing"]


def test_abstract_types_and_interface_objects() -> None:
    sg = supergraph("abstract")
    assert sg.possible_types("search", "Media") == {"Book", "Movie"}
    assert sg.possible_types("books", "Media") == frozenset()
    assert sg.possible_types("search", "Result") == {"Book", "Movie"}
    io = supergraph("interface_object")
    assert io.is_interface_object("billing", "Account")
    assert io.interface_object_sources("User", "balance") == (("billing", "Account"),)
    assert io.possible_types("accounts", "Account") == {"User", "Admin"}


def test_link_as_renames_the_join_prefix() -> None:
    text = (SETS / "entities" / "supergraph.graphql").read_text()
    renamed = text.replace("join__", "j__").replace(
        '@link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)',
        '@link(url: "https://specs.apollo.dev/join/v0.3", as: "j", for: EXECUTION)',
    )
    assert 'as: "j"' in renamed
    sg = load_supergraph(renamed)
    doc = parse("{ topProducts { name reviews { body } } }")
    assert plan_to_text(build_query_plan(sg, doc)) == plan_to_text(build_query_plan(supergraph("entities"), doc))
    assert "j__" not in sg.api_schema_sdl()


FED1 = """
schema @core(feature: "https://specs.apollo.dev/core/v0.1") @core(feature: "https://specs.apollo.dev/join/v0.1", for: EXECUTION) {
  query: Query
}
directive @core(feature: String!, as: String, for: core__Purpose) repeatable on SCHEMA
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet) on FIELD_DEFINITION
directive @join__type(graph: join__Graph!, key: join__FieldSet) repeatable on OBJECT | INTERFACE
directive @join__owner(graph: join__Graph!) on OBJECT | INTERFACE
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
enum core__Purpose { EXECUTION SECURITY }
scalar join__FieldSet
enum join__Graph {
  ACCOUNTS @join__graph(name: "accounts", url: "http://accounts")
  REVIEWS @join__graph(name: "reviews", url: "http://reviews")
}
type Query { me: User @join__field(graph: ACCOUNTS) }
type User @join__owner(graph: ACCOUNTS) @join__type(graph: ACCOUNTS, key: "id") @join__type(graph: REVIEWS, key: "id") {
  id: ID! @join__field(graph: ACCOUNTS)
  name: String @join__field(graph: ACCOUNTS)
  reviews: [Review] @join__field(graph: REVIEWS)
}
type Review @join__owner(graph: REVIEWS) @join__type(graph: REVIEWS, key: "id") {
  id: ID! @join__field(graph: REVIEWS)
  body: String @join__field(graph: REVIEWS)
}
"""


def test_fed1_join_v01_supergraph_plans() -> None:
    sg = load_supergraph(FED1)
    assert sg.join_version == "v0.1"
    assert set(sg.resolving_graphs("User", "id")) == {"accounts", "reviews"}  # key field in every key graph
    text = plan_to_text(build_query_plan(sg, parse("{ me { name reviews { body } } }")))
    assert 'Fetch(service: "accounts")' in text and 'Flatten(path: "me")' in text
    assert "core__" not in sg.api_schema_sdl() and "join__" not in sg.api_schema_sdl()


def test_unsupported_execution_or_security_feature_is_refused() -> None:
    text = (SETS / "entities" / "supergraph.graphql").read_text()
    for purpose in ("SECURITY", "EXECUTION"):
        bad = text.replace(
            "schema @link",
            f'schema @link(url: "https://specs.apollo.dev/connect/v0.1", for: {purpose}) @link',
            1,
        )
        with pytest.raises(SupergraphError) as err:
            load_supergraph(bad)
        assert err.value.code == "UNSUPPORTED_LINKED_FEATURE"
        assert "connect" in err.value.message


def test_feature_without_purpose_is_ignored() -> None:
    text = (SETS / "entities" / "supergraph.graphql").read_text()
    ok = text.replace("schema @link", 'schema @link(url: "https://specs.apollo.dev/cost/v0.1") @link', 1)
    assert load_supergraph(ok).subgraphs


@pytest.mark.parametrize(
    "sdl, fragment",
    [
        ("type Query {", "does not parse"),
        ("type Query { a: Int }", "no @link"),
        (
            'schema @link(url: "https://specs.apollo.dev/link/v1.0") { query: Query } type Query { a: Int }',
            "no join spec",
        ),
    ],
)
def test_malformed_supergraphs_raise_clear_errors(sdl: str, fragment: str) -> None:
    with pytest.raises(SupergraphError) as err:
        load_supergraph(sdl)
    assert fragment in err.value.message


def test_unsupported_join_version_is_refused() -> None:
    text = (SETS / "entities" / "supergraph.graphql").read_text().replace("join/v0.3", "join/v0.9")
    with pytest.raises(SupergraphError) as err:
        load_supergraph(text)
    assert err.value.code == "UNSUPPORTED_LINKED_FEATURE"


def test_fed1_extension_key_fields_count_as_local_even_when_external() -> None:
    text = (SETS / "fed1_mixed" / "supergraph.graphql").read_text()
    edited = text.replace(
        '@join__type(graph: INVENTORY, key: "upc")', '@join__type(graph: INVENTORY, key: "upc", extension: true)'
    ).replace(
        "  upc: String!\n",
        "  upc: String! @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)\n",
    )
    assert edited.count("extension: true") == 1 and "INVENTORY, external: true) @join__field(graph: PRODUCTS)" in edited
    sg = load_supergraph(edited)
    assert set(sg.resolving_graphs("Product", "upc")) == {"inventory", "products"}
    doc = parse("{ lowStock { upc name } }")
    assert plan_to_text(build_query_plan(sg, doc)) == plan_to_text(build_query_plan(supergraph("fed1_mixed"), doc))
