"""End to end: real planner + executor over the shop subgraphs, answers worked out by hand."""

from __future__ import annotations

from typing import Any


def _reps(app: Any) -> list[list[dict[str, Any]]]:
    return [b["variables"]["representations"] for b in app.entity_requests()]


async def test_cross_subgraph_entities_are_deduplicated(gateway, apps):
    result = await gateway.execute("{ latestReviews { id author { id name } } }")
    assert result.body == {
        "data": {
            "latestReviews": [
                {"id": "r1", "author": {"id": "1", "name": "Ada Lovelace"}},
                {"id": "r2", "author": {"id": "2", "name": "Alan Turing"}},
                {"id": "r3", "author": {"id": "1", "name": "Ada Lovelace"}},
                {"id": "r4", "author": {"id": "3", "name": "Grace Hopper"}},
                {"id": "r5", "author": {"id": "1", "name": "Ada Lovelace"}},
            ]
        }
    }
    reps = _reps(apps["accounts"])
    assert len(reps) == 1 and sorted(r["id"] for r in reps[0]) == ["1", "2", "3"]


async def test_provides_needs_no_jump(gateway, apps):
    result = await gateway.execute("{ latestReviews { author { username } } }")
    assert result.body == {
        "data": {"latestReviews": [{"author": {"username": u}} for u in ["ada", "alan", "ada", "grace", "ada"]]}
    }
    assert apps["accounts"].requests == []


async def test_requires_and_null_entity(gateway, apps):
    result = await gateway.execute("{ topProducts { upc name shippingEstimate inStock } }")
    assert result.body == {
        "data": {
            "topProducts": [
                {"upc": "1", "name": "Table", "shippingEstimate": 50, "inStock": True},
                {"upc": "2", "name": "Couch", "shippingEstimate": 0, "inStock": False},
                None,
                {"upc": "4", "name": "Chair", "shippingEstimate": 25, "inStock": True},
            ]
        },
        "errors": [
            {
                "message": "Cannot return null for non-nullable field Product.inStock.",
                "path": ["topProducts", 2, "inStock"],
            }
        ],
    }
    [reps] = _reps(apps["inventory"])
    assert {"__typename": "Product", "upc": "3", "price": 15, "weight": None} in reps


async def test_abstract_type_fields_from_another_graph(gateway):
    result = await gateway.execute(
        "{ things { __typename name ... on Book { pages stock } ... on Gadget { brand stock } } }"
    )
    assert result.body == {
        "data": {
            "things": [
                {"__typename": "Book", "name": "SICP", "pages": 657, "stock": 3},
                {"__typename": "Gadget", "name": "Multimeter", "brand": "Fluke", "stock": 12},
                {"__typename": "Book", "name": "TAOCP", "pages": 672, "stock": 0},
            ]
        }
    }


async def test_aliases_fragments_variables_skip_include(gateway, apps):
    query = """
    query Q($upc: String!, $withStock: Boolean!, $noName: Boolean = false) {
      p: product(upc: $upc) { ...Basic  label: name @skip(if: $noName)  stocked: inStock @include(if: $withStock) }
    }
    fragment Basic on Product { upc price }
    """
    result = await gateway.execute(query, {"upc": "1", "withStock": True}, "Q")
    assert result.body == {"data": {"p": {"upc": "1", "price": 899, "label": "Table", "stocked": True}}}
    result = await gateway.execute(query, {"upc": "2", "withStock": False, "noName": True}, "Q")
    assert result.body == {"data": {"p": {"upc": "2", "price": 1299}}}
    assert gateway.plan_cache_misses == 1 and gateway.plan_cache_hits == 1


async def test_nested_entity_chain_with_list_indices_in_errors(gateway):
    result = await gateway.execute("{ topProducts(first: 2) { name reviews { body author { name birthday } } } }")
    data = result.body["data"]
    assert data == {
        "topProducts": [
            {
                "name": "Table",
                "reviews": [
                    {"body": "Sturdy", "author": {"name": "Ada Lovelace", "birthday": None}},
                    {"body": "Wobbly", "author": {"name": "Alan Turing", "birthday": 1912}},
                ],
            },
            {
                "name": "Couch",
                "reviews": [
                    {"body": "Comfy", "author": {"name": "Ada Lovelace", "birthday": None}},
                    {"body": "Too big", "author": {"name": "Grace Hopper", "birthday": 1906}},
                ],
            },
        ]
    }
    paths = sorted(e["path"] for e in result.body["errors"])
    assert paths == [
        ["topProducts", 0, "reviews", 0, "author", "birthday"],
        ["topProducts", 1, "reviews", 0, "author", "birthday"],
    ]
    assert all(
        e["extensions"] == {"serviceName": "accounts", "code": "DOWNSTREAM_SERVICE_ERROR"}
        for e in result.body["errors"]
    )


async def test_mutations_run_in_document_order(gateway, journal):
    result = await gateway.execute(
        """mutation {
          createProduct(upc: "10", name: "Lamp", price: 50) { upc name }
          addReview(upc: "10", body: "Bright") { body product { name } }
          setInStock(upc: "10", inStock: true) { name inStock }
        }"""
    )
    assert result.body == {
        "data": {
            "createProduct": {"upc": "10", "name": "Lamp"},
            "addReview": {"body": "Bright", "product": {"name": "Lamp"}},
            "setInStock": {"name": "Lamp", "inStock": True},
        }
    }
    mutation_order = [name for name, body in journal if body["query"].lstrip().startswith("mutation")]
    assert mutation_order == ["products", "reviews", "inventory"]


async def test_subgraph_down_partial_data(gateway, apps):
    apps["inventory"].down = True
    result = await gateway.execute("{ topProducts(first: 2) { name inStock } latestReviews { body } }")
    assert result.status == "ok"
    assert result.body["data"] == {
        "topProducts": [None, None],
        "latestReviews": [{"body": b} for b in ["Sturdy", "Wobbly", "Comfy", "Too big", "Fragile"]],
    }
    [error] = result.body["errors"]
    assert error["extensions"]["code"] == "SUBGRAPH_FETCH_FAILED" and "inventory" in error["message"]


async def test_enum_value_not_in_api_schema(gateway):
    result = await gateway.execute('{ product(upc: "4") { name status } }')
    assert result.body == {
        "data": {"product": {"name": "Chair", "status": None}},
        "errors": [{"message": 'Enum "ProductStatus" cannot represent value: "SECRET"', "path": ["product", "status"]}],
    }


async def test_inaccessible_enum_value_is_a_validation_error(gateway, journal):
    result = await gateway.execute('{ __type(name: "ProductStatus") { enumValues { name } } }')
    assert result.body == {"data": {"__type": {"enumValues": [{"name": "ACTIVE"}, {"name": "DISCONTINUED"}]}}}
    assert journal == []


async def test_introspection_merged_with_data(gateway):
    result = await gateway.execute("{ __typename me { __typename name } __schema { mutationType { name } } }")
    assert result.body == {
        "data": {
            "__typename": "Query",
            "me": {"__typename": "User", "name": "Ada Lovelace"},
            "__schema": {"mutationType": {"name": "Mutation"}},
        }
    }


async def test_request_errors(gateway, journal):
    bad = await gateway.execute("{ me { password } }")
    assert bad.status == "request_error" and "data" not in bad.body
    assert bad.body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    var = await gateway.execute("query($n: Int) { topProducts(first: $n) { name } }", {"n": "x"})
    assert var.status == "request_error" and var.body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    get = await gateway.execute(
        'mutation { createProduct(upc: "9", name: "x", price: 1) { upc } }', allow_mutations=False
    )
    assert get.status == "method_not_allowed"
    assert journal == []


async def test_explain_and_include_plan(gateway):
    plan = gateway.explain("{ latestReviews { author { name } } }")
    assert plan.node is not None
    result = await gateway.execute("{ me { name } }", include_plan=True)
    assert result.body["data"] == {"me": {"name": "Ada Lovelace"}}
    assert "queryPlan" in result.body["extensions"]


async def test_headers_are_forwarded(gateway, apps):
    seen: list[str | None] = []
    inner = apps["accounts"].app

    async def spy(scope, receive, send):
        seen.append(dict(scope["headers"]).get(b"authorization", b"").decode() or None)
        await inner(scope, receive, send)

    apps["accounts"].app = spy
    await gateway.execute("{ me { name } }", subgraph_headers={"authorization": "Bearer abc"})
    assert seen == ["Bearer abc"]


async def test_unreachable_and_slow_subgraphs_over_real_http(http_server, apps):
    from router.gateway import Gateway, GatewayOptions
    from tests.fixtures.subgraph_apps import mount_all
    from tests.fixtures.subgraph_apps.shop import supergraph_sdl

    switch, base = http_server
    switch.target = mount_all(apps)
    # inventory points at a closed port; reviews answers too slowly for the timeout.
    sdl = supergraph_sdl(base).replace(f"{base}/inventory/graphql", "http://127.0.0.1:1/inventory/graphql")
    apps["reviews"].delay_s = 1.0
    gw = Gateway(sdl, options=GatewayOptions(subgraph_timeouts={"reviews": 0.2}))
    try:
        result = await gw.execute("{ topProducts(first: 1) { name inStock reviews { body } } me { name } }")
    finally:
        await gw.aclose()
    assert result.body["data"] == {"topProducts": [None], "me": {"name": "Ada Lovelace"}}
    errors = sorted(result.body["errors"], key=lambda e: e["message"])
    assert [e["extensions"]["code"] for e in errors] == ["SUBGRAPH_FETCH_FAILED", "SUBGRAPH_FETCH_FAILED"]
    assert (
        "'inventory'" in errors[0]["message"]
        and "'reviews'" in errors[1]["message"]
        and "timed out" in errors[1]["message"]
    )
