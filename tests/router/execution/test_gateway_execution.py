"""Gateway execution over in-process subgraphs with hand-written plans (see plans.py)."""

from __future__ import annotations

from typing import Any

from . import plans as P


def _entity_reps(app: Any) -> list[list[dict[str, Any]]]:
    return [b["variables"]["representations"] for b in app.entity_requests()]


async def test_entity_fetch_merges_and_dedupes_representations(make_gateway, planner, apps):
    planner.plans[P.REVIEWS_WITH_AUTHORS] = P.REVIEWS_WITH_AUTHORS_PLAN
    gw = make_gateway()
    result = await gw.execute(P.REVIEWS_WITH_AUTHORS)
    assert result.status == "ok"
    assert result.body == {
        "data": {
            "latestReviews": [
                {"id": "r1", "body": "Sturdy", "author": {"id": "1", "name": "Ada Lovelace", "username": "ada"}},
                {"id": "r2", "body": "Wobbly", "author": {"id": "2", "name": "Alan Turing", "username": "alan"}},
                {"id": "r3", "body": "Comfy", "author": {"id": "1", "name": "Ada Lovelace", "username": "ada"}},
                {"id": "r4", "body": "Too big", "author": {"id": "3", "name": "Grace Hopper", "username": "grace"}},
                {"id": "r5", "body": "Fragile", "author": {"id": "1", "name": "Ada Lovelace", "username": "ada"}},
            ]
        }
    }
    # Five authors, three distinct users: one request carrying three representations.
    assert _entity_reps(apps["accounts"]) == [
        [{"__typename": "User", "id": "1"}, {"__typename": "User", "id": "2"}, {"__typename": "User", "id": "3"}]
    ]
    assert len(apps["reviews"].requests) == 1


async def test_subgraph_error_in_entities_is_repathed_to_every_client_path(make_gateway, planner, apps):
    planner.plans[P.AUTHOR_BIRTHDAYS] = P.AUTHOR_BIRTHDAYS_PLAN
    result = await make_gateway().execute(P.AUTHOR_BIRTHDAYS)
    body = result.body
    assert [r["author"]["birthday"] for r in body["data"]["latestReviews"]] == [None, 1912, None, 1906, None]
    # User 1 is representation 0 but authored reviews 0, 2 and 4.
    assert [e["path"] for e in body["errors"]] == [
        ["latestReviews", 0, "author", "birthday"],
        ["latestReviews", 2, "author", "birthday"],
        ["latestReviews", 4, "author", "birthday"],
    ]
    for err in body["errors"]:
        assert err["message"] == "birthday of user 1 is private"
        assert err["extensions"]["serviceName"] == "accounts"
    assert len(_entity_reps(apps["accounts"])[0]) == 3


async def test_requires_and_null_entity_propagates_to_nullable_list_item(make_gateway, planner, apps):
    planner.plans[P.TOP_PRODUCTS_SHIPPING] = P.TOP_PRODUCTS_SHIPPING_PLAN
    result = await make_gateway().execute(P.TOP_PRODUCTS_SHIPPING)
    assert result.body == {
        "data": {
            "topProducts": [
                {"upc": "1", "name": "Table", "shippingEstimate": 50, "inStock": True},
                {"upc": "2", "name": "Couch", "shippingEstimate": 0, "inStock": False},
                None,  # inventory returned a null entity: non-null inStock bubbles to the item
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
    # The required fields travel in the representations (weight may be null).
    assert _entity_reps(apps["inventory"])[0][2] == {"__typename": "Product", "upc": "3", "price": 15, "weight": None}


async def test_interface_with_type_filtered_flattens(make_gateway, planner, apps):
    planner.plans[P.THINGS] = P.THINGS_PLAN
    result = await make_gateway().execute(P.THINGS)
    assert result.body == {
        "data": {
            "things": [
                {"__typename": "Book", "name": "SICP", "pages": 657, "stock": 3},
                {"__typename": "Gadget", "name": "Multimeter", "stock": 12},
                {"__typename": "Book", "name": "TAOCP", "pages": 672, "stock": 0},
            ]
        }
    }
    reps = sorted(_entity_reps(apps["inventory"]), key=len)
    assert reps == [
        [{"__typename": "Gadget", "id": "g1"}],
        [{"__typename": "Book", "id": "b1"}, {"__typename": "Book", "id": "b2"}],
    ]


async def test_aliases_fragments_variables_skip_include(make_gateway, planner, apps):
    planner.plans[P.PRODUCT_BY_UPC] = P.PRODUCT_BY_UPC_PLAN
    gw = make_gateway()
    result = await gw.execute(P.PRODUCT_BY_UPC, {"upc": "2", "withName": True}, "Product")
    assert result.body == {
        "data": {"p": {"upc": "2", "n": "2", "price": 1299, "label": "Couch"}, "__typename": "Query"}
    }
    sent = apps["products"].requests[-1]
    assert sent["variables"] == {"upc": "2"}  # only the variables the fetch uses
    assert sent["operationName"] == "Product__products__0"

    result = await gw.execute(P.PRODUCT_BY_UPC, {"upc": "1", "withName": False, "skipPrice": True}, "Product")
    assert result.body == {"data": {"p": {"upc": "1", "n": "1"}, "__typename": "Query"}}
    assert planner.calls == 1 and gw.plan_cache_hits == 1 and gw.plan_cache_misses == 1


async def test_condition_node_follows_variable(make_gateway, planner, apps):
    planner.plans[P.CONDITIONAL_STOCK] = P.CONDITIONAL_STOCK_PLAN
    gw = make_gateway()
    on = await gw.execute(P.CONDITIONAL_STOCK, {"s": True})
    assert on.body == {
        "data": {"topProducts": [{"name": "Table", "inStock": True}, {"name": "Couch", "inStock": False}]}
    }
    assert len(apps["inventory"].requests) == 1
    off = await gw.execute(P.CONDITIONAL_STOCK, {"s": False})
    assert off.body == {"data": {"topProducts": [{"name": "Table"}, {"name": "Couch"}]}}
    assert len(apps["inventory"].requests) == 1


async def test_enum_value_hidden_from_api_schema_becomes_null_with_error(make_gateway, planner):
    planner.plans[P.PRODUCT_STATUS] = P.PRODUCT_STATUS_PLAN
    result = await make_gateway().execute(P.PRODUCT_STATUS)
    assert result.body == {
        "data": {"product": {"upc": "4", "status": None}},
        "errors": [{"message": 'Enum "ProductStatus" cannot represent value: "SECRET"', "path": ["product", "status"]}],
    }


async def test_subgraph_down_gives_partial_data_and_one_error(make_gateway, planner, apps):
    planner.plans[P.TOP_PRODUCTS_SHIPPING] = P.TOP_PRODUCTS_SHIPPING_PLAN
    apps["inventory"].down = True
    result = await make_gateway().execute(P.TOP_PRODUCTS_SHIPPING)
    assert result.status == "ok"
    assert result.body["data"] == {"topProducts": [None, None, None, None]}
    [error] = result.body["errors"]  # no extra "Cannot return null" errors for the failed region
    assert error["extensions"]["code"] == "SUBGRAPH_FETCH_FAILED"
    assert "inventory" in error["message"]


async def test_non_null_root_field_failure_nulls_data(make_gateway, planner, apps):
    planner.plans[P.MIXED] = P.MIXED_PLAN
    apps["accounts"].down = True
    result = await make_gateway().execute(P.MIXED)
    assert result.body["data"] is None
    assert [e["extensions"]["code"] for e in result.body["errors"]] == ["SUBGRAPH_FETCH_FAILED"]
    assert len(apps["products"].requests) == 1  # the other graph still ran


async def test_parallel_root_fetches_merge(make_gateway, planner):
    planner.plans[P.MIXED] = P.MIXED_PLAN
    result = await make_gateway().execute(P.MIXED)
    assert result.body == {"data": {"me": {"name": "Ada Lovelace"}, "topProducts": [{"name": "Table"}]}}


async def test_mutations_run_in_plan_order(make_gateway, planner, journal):
    planner.plans[P.MUTATIONS] = P.MUTATIONS_PLAN
    result = await make_gateway().execute(P.MUTATIONS)
    assert result.body == {
        "data": {
            "createProduct": {"upc": "10", "name": "Lamp"},
            "addReview": {"body": "Bright", "product": {"name": "Lamp"}},
            "setInStock": {"name": "Lamp", "inStock": True},
        }
    }
    assert [name for name, _ in journal] == ["products", "reviews", "products", "inventory", "products"]


async def test_mutation_refused_when_not_allowed(make_gateway, planner, journal):
    result = await make_gateway().execute(P.MUTATIONS, allow_mutations=False)
    assert result.status == "method_not_allowed"
    assert "data" not in result.body
    assert journal == [] and planner.calls == 0


async def test_introspection_is_local_and_hides_inaccessible(make_gateway, planner, journal):
    query = '{ __typename __schema { queryType { name } } t: __type(name: "ProductStatus") { enumValues { name } } }'
    result = await make_gateway().execute(query)
    assert result.body == {
        "data": {
            "__typename": "Query",
            "__schema": {"queryType": {"name": "Query"}},
            "t": {"enumValues": [{"name": "ACTIVE"}, {"name": "DISCONTINUED"}]},
        }
    }
    assert journal == [] and planner.calls == 0


async def test_introspection_merged_with_planned_fields(make_gateway, planner):
    planner.plans[P.ME] = P.ME_PLAN
    result = await make_gateway().execute('{ me { name } __type(name: "Thing") { kind } }')
    assert result.body == {"data": {"me": {"name": "Ada Lovelace"}, "__type": {"kind": "INTERFACE"}}}


async def test_introspection_can_be_disabled(make_gateway):
    result = await make_gateway(introspection=False).execute("{ __schema { queryType { name } } }")
    assert result.status == "request_error"
    assert result.body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_request_errors_never_reach_subgraphs(make_gateway, planner, journal):
    gw = make_gateway()
    parse = await gw.execute("{ me { ")
    assert parse.status == "request_error" and "data" not in parse.body
    assert parse.body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"

    invalid = await gw.execute("{ me { nope } }")
    assert invalid.status == "request_error"
    assert invalid.body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "nope" in invalid.body["errors"][0]["message"]

    bad_var = await gw.execute("query($u: String!) { product(upc: $u) { name } }", {"u": 5})
    assert bad_var.status == "request_error"
    assert bad_var.body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    missing = await gw.execute("query($u: String!) { product(upc: $u) { name } }", {})
    assert missing.body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert journal == [] and planner.calls == 0


async def test_planning_error_is_request_error(make_gateway, planner):
    class Boom(Exception):
        code = "QUERY_PLANNING_FAILED"

    calls = []

    def fail(*_a: Any, **_k: Any) -> Any:
        calls.append(1)
        raise Boom("cannot plan this")

    from router.gateway import Gateway

    from .conftest import SUPERGRAPH

    class NoClient:
        async def fetch(self, *_a: Any) -> Any:
            raise AssertionError("nothing may be fetched")

    gw = Gateway.from_components(
        api_schema=SUPERGRAPH.api_schema, planner=fail, client=NoClient(), supergraph=SUPERGRAPH
    )
    for _ in range(2):
        result = await gw.execute("{ me { name } }")
        assert result.status == "request_error"
        assert result.body == {
            "errors": [{"message": "cannot plan this", "extensions": {"code": "QUERY_PLANNING_FAILED"}}]
        }
    assert len(calls) == 1  # the failure is cached with the operation


async def test_include_plan_adds_query_plan_extension(make_gateway, planner):
    planner.plans[P.ME] = P.ME_PLAN
    result = await make_gateway().execute(P.ME, include_plan=True)
    plan = result.body["extensions"]["queryPlan"]
    assert "Fetch" in str(plan) and "accounts" in str(plan)


async def test_identical_concurrent_queries_are_coalesced_when_enabled(make_gateway, planner, apps):
    import asyncio

    planner.plans[P.REVIEWS_WITH_AUTHORS] = P.REVIEWS_WITH_AUTHORS_PLAN
    apps["reviews"].delay_s = 0.05
    gw = make_gateway(dedupe_inflight_queries=True)
    results = await asyncio.gather(*[gw.execute(P.REVIEWS_WITH_AUTHORS) for _ in range(5)])
    assert all(r.body == results[0].body for r in results)
    assert len(results[0].body["data"]["latestReviews"]) == 5
    assert len(apps["reviews"].requests) == 1 and gw.inflight_coalesced == 4
    # A caller that goes away does not cancel the shared execution for the others.
    leader = asyncio.ensure_future(gw.execute(P.REVIEWS_WITH_AUTHORS))
    await asyncio.sleep(0)
    follower = asyncio.ensure_future(gw.execute(P.REVIEWS_WITH_AUTHORS))
    await asyncio.sleep(0.01)
    leader.cancel()
    assert (await follower).body == results[0].body
    assert len(apps["reviews"].requests) == 2
    # Different subgraph headers are never coalesced (they may authorise differently).
    await asyncio.gather(
        gw.execute(P.REVIEWS_WITH_AUTHORS, subgraph_headers={"authorization": "a"}),
        gw.execute(P.REVIEWS_WITH_AUTHORS, subgraph_headers={"authorization": "b"}),
    )
    assert len(apps["reviews"].requests) == 4


async def test_no_coalescing_by_default(make_gateway, planner, apps):
    import asyncio

    planner.plans[P.REVIEWS_WITH_AUTHORS] = P.REVIEWS_WITH_AUTHORS_PLAN
    apps["reviews"].delay_s = 0.05
    # The subgraph client's own merging of identical queries (on by default) is switched off here: this
    # is about the gateway's client-request coalescing (tests/router/http/test_subgraph_dedupe.py: the other).
    gw = make_gateway(deduplicate_subgraph_queries=False)
    await asyncio.gather(*[gw.execute(P.REVIEWS_WITH_AUTHORS) for _ in range(3)])
    assert len(apps["reviews"].requests) == 3
    assert gw.inflight_coalesced == 0
