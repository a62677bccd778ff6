"""Value types (no ``@key``) whose fields are spread over several graphs (issue 14 classes 1 and 2), over real HTTP:
``shared_roots`` (shareable root fields) and ``nested_values`` (below entities, through key chains and composite
keys). Answers checked against Apollo Gateway by the differential test (the same sets are in it)."""

from __future__ import annotations


async def test_shared_root_field_is_fetched_from_each_graph_holding_requested_fields(run_set):
    run = await run_set("shared_roots")
    body = await run.query("{ settings { theme currency } }")
    assert body == {"data": {"settings": {"theme": "dark", "currency": "IDR"}}}
    assert sorted(run.calls()) == ["left", "right"]
    assert [b["query"] for b in run.apps["left"].requests] == ["query { settings { theme } }"]
    assert [b["query"] for b in run.apps["right"].requests] == ["query { settings { currency } }"]


async def test_shared_root_field_one_graph_can_answer_whole_is_one_fetch(run_set):
    run = await run_set("shared_roots")
    assert await run.query("{ settings { locale theme } motd }") == {
        "data": {"settings": {"locale": "id-ID", "theme": "dark"}, "motd": "Selamat datang"}
    }
    assert run.calls() == ["left"]
    run.reset()
    assert await run.query("{ settings { currency locale } }") == {
        "data": {"settings": {"currency": "IDR", "locale": "id-ID"}}
    }
    assert run.calls() == ["right"]


async def test_shared_lists_and_nested_value_types_merge_by_position(run_set):
    run = await run_set("shared_roots")
    query = "{ motd settings { limits { daily monthly } locale } banners { slot title tint: color } }"
    body = await run.query(query)
    assert body == {
        "data": {
            "motd": "Selamat datang",
            "settings": {"limits": {"daily": 5, "monthly": 60}, "locale": "id-ID"},
            "banners": [
                {"slot": 1, "title": "Token promo", "tint": "red"},
                {"slot": 2, "title": "New tariff", "tint": "blue"},
            ],
        }
    }
    # one root fetch per graph, in parallel: both root fields share it
    assert sorted(run.calls()) == ["left", "right"]
    (right,) = run.apps["right"].requests
    assert right["query"] == "query { settings { limits { monthly } } banners { tint: color } }"


async def test_nested_value_type_is_completed_through_the_parent_entitys_key_chain(run_set):
    run = await run_set("nested_values")
    body = await run.query("{ products { name details { weight color size { width height } } } }")
    assert body == {
        "data": {
            "products": [
                {"name": "Meter box", "details": {"weight": 3, "color": "grey", "size": {"width": 20, "height": 30}}},
                {"name": "Breaker", "details": {"weight": 1, "color": "white", "size": {"width": 5, "height": 8}}},
            ]
        }
    }
    # catalog -> skus (id -> sku) -> specs (sku), re-selecting details { color size { height } } below the key
    assert run.calls() == ["catalog", "skus", "specs"]
    (specs,) = run.apps["specs"].requests
    assert "... on Product { details { color size { height } } }" in specs["query"]
    assert run.reps("specs") == [[{"__typename": "Product", "sku": "SKU-1"}, {"__typename": "Product", "sku": "SKU-2"}]]


async def test_value_type_below_an_entity_with_a_composite_nested_key(run_set):
    run = await run_set("nested_values")
    body = await run.query("{ products { variants { code stock { count location } } } }")
    assert body == {
        "data": {
            "products": [
                {
                    "variants": [
                        {"code": "S", "stock": {"count": 4, "location": "Bandung"}},
                        {"code": "L", "stock": {"count": 0, "location": "Jakarta"}},
                    ]
                },
                {"variants": [{"code": "S", "stock": {"count": 9, "location": "Surabaya"}}]},
            ]
        }
    }
    assert run.calls() == ["catalog", "warehouse"]
    assert run.reps("warehouse") == [
        [
            {"__typename": "Variant", "product": {"id": "p1"}, "code": "S"},
            {"__typename": "Variant", "product": {"id": "p1"}, "code": "L"},
            {"__typename": "Variant", "product": {"id": "p2"}, "code": "S"},
        ]
    ]


async def test_both_nested_splits_in_one_operation_take_four_fetches(run_set):
    run = await run_set("nested_values")
    query = "{ products { id details { color weight } variants { stock { location count } } } }"
    body = await run.query(query)
    assert body["data"]["products"][1] == {
        "id": "p2",
        "details": {"color": "white", "weight": 1},
        "variants": [{"stock": {"location": "Surabaya", "count": 9}}],
    }
    assert "errors" not in body
    calls = run.calls()
    assert calls[0] == "catalog" and sorted(calls) == ["catalog", "skus", "specs", "warehouse"]
    assert calls.index("skus") < calls.index("specs")


async def test_split_reaches_into_inline_fragments_with_conditions(run_set):
    # found by the differential test: a conditional inline fragment inside the shared value type was not split
    run = await run_set("shared_roots")
    query = "query Q($s: Boolean!) { settings { ... @skip(if: $s) { limits { ...L monthly } currency } } } "
    query += "fragment L on Limits { daily }"
    body = await run.query(query, {"s": False})
    assert body == {"data": {"settings": {"limits": {"daily": 5, "monthly": 60}, "currency": "IDR"}}}
    assert sorted(run.calls()) == ["left", "right"]
    run.reset()
    assert await run.query(query, {"s": True}) == {"data": {"settings": {}}}


async def test_split_below_an_entity_through_a_typed_fragment(run_set):
    run = await run_set("nested_values")
    query = "query Q($s: Boolean!) { products { details { ... on Details @skip(if: $s) { size { height width } } } } }"
    body = await run.query(query, {"s": False})
    assert body == {
        "data": {
            "products": [
                {"details": {"size": {"height": 30, "width": 20}}},
                {"details": {"size": {"height": 8, "width": 5}}},
            ]
        }
    }
    assert run.calls() == ["catalog", "skus", "specs"]
