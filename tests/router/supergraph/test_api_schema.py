"""The API schema: spec definitions and @inaccessible elements removed, introspection works."""

from __future__ import annotations

from graphql import get_introspection_query, parse, validate

from router.execution import run_introspection

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
    # Through the router's own introspection runner: graphql-core's graphql_sync() refuses a schema that
    # defines @defer, which the API schema does (docs/router.md §10 @defer and incremental delivery).
    sg = supergraph("inaccessible")
    data, errors = run_introspection(sg.api_schema, parse(get_introspection_query()), None)
    assert not errors and data
    names = {t["name"] for t in data["__schema"]["types"]}
    assert "Product" in names and "Secret" not in names and "join__Graph" not in names
    assert "defer" in {d["name"] for d in data["__schema"]["directives"]}
    product, errors = run_introspection(sg.api_schema, parse('{ __type(name: "Product") { fields { name } } }'), None)
    assert not errors
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
