"""The API schema: spec definitions and @inaccessible elements removed, introspection works."""

from __future__ import annotations

from graphql import get_introspection_query, graphql_sync, parse, validate

from ._sets import supergraph


def test_api_schema_drops_join_link_tag_and_inaccessible() -> None:
    sg = supergraph("inaccessible")
    sdl = sg.api_schema_sdl()
    for gone in (
        "join__",
        "link__",
        "@link",
        "@tag",
        "@inaccessible",
        "internalCode",
        "legacyFlag",
        "Secret",
        "BETA",
        "internal",
    ):
        assert gone not in sdl, gone
    assert "color: Color" in sdl and "RED" in sdl and "filter: Filter" in sdl
    # the supergraph schema itself still has everything (the planner needs it)
    assert sg.schema.get_type("Secret") is not None


def test_introspection_runs_and_hides_inaccessible_elements() -> None:
    sg = supergraph("inaccessible")
    result = graphql_sync(sg.api_schema, get_introspection_query())
    assert result.errors is None and result.data is not None
    names = {t["name"] for t in result.data["__schema"]["types"]}
    assert "Product" in names and "Secret" not in names and "join__Graph" not in names
    product = graphql_sync(sg.api_schema, '{ __type(name: "Product") { fields { name } } }').data
    assert product is not None
    assert {f["name"] for f in product["__type"]["fields"]} == {"id", "name", "color", "label"}


def test_validation_rejects_inaccessible_elements() -> None:
    sg = supergraph("inaccessible")
    for query in (
        "{ products { internalCode } }",
        "{ secret { value } }",
        "{ products(legacyFlag: true) { id } }",
        "{ products(filter: {internal: true}) { id } }",
    ):
        assert validate(sg.api_schema, parse(query)), query
    assert not validate(sg.api_schema, parse("{ products { id name color } }"))


def test_deprecated_and_custom_directives_are_kept() -> None:
    from router.supergraph import load_supergraph

    text = (supergraph("entities").sdl).replace(
        "  name: String! @join__field(graph: PRODUCTS)",
        '  name: String! @deprecated(reason: "old") @join__field(graph: PRODUCTS)',
    )
    sg = load_supergraph(text)
    assert '@deprecated(reason: "old")' in sg.api_schema_sdl()
