"""``requires`` set over real HTTP: every @requires value is computed by the subgraph from
the representation (formulas in ``tests/fixtures/subgraph_apps/sets/requires.py``)."""

from __future__ import annotations


async def test_requires_chain_across_three_graphs(run_set):
    run = await run_set("requires")
    body = await run.query("{ products { id shippingCost deliveryEstimate } }")
    # shippingCost = price // 10 + 2 * weight: 100,3 -> 16; 40,1 -> 6; 300,10 -> 50
    assert body == {
        "data": {
            "products": [
                {"id": "1", "shippingCost": 16, "deliveryEstimate": "express"},
                {"id": "2", "shippingCost": 6, "deliveryEstimate": "express"},
                {"id": "3", "shippingCost": 50, "deliveryEstimate": "standard"},
            ]
        }
    }
    assert run.calls() == ["catalog", "shipping", "delivery"]
    assert run.reps("shipping")[0][0] == {"__typename": "Product", "id": "1", "price": 100, "weight": 3}
    assert [r["shippingCost"] for r in run.reps("delivery")[0]] == [16, 6, 50]


async def test_self_jump_back_into_root_graph(run_set):
    run = await run_set("requires")
    body = await run.query("{ products { id discountedPrice } }")
    assert body == {
        "data": {
            "products": [
                {"id": "1", "discountedPrice": 89},
                {"id": "2", "discountedPrice": 36},
                {"id": "3", "discountedPrice": 267},
            ]
        }
    }
    assert run.calls() == ["catalog", "tax", "catalog"]
    assert run.reps("catalog") == [
        [{"__typename": "Product", "id": i, "tax": t} for i, t in (("1", 11), ("2", 4), ("3", 33))]
    ]


async def test_requires_with_arguments_next_to_client_arguments(run_set):
    run = await run_set("requires")
    body = await run.query('{ products { id size(unit: "in") boxLabel } }')
    # the client sees inches (50 cm -> 20 in, 120 cm -> 47 in); boxLabel needs size in cm
    assert body == {
        "data": {
            "products": [
                {"id": "1", "size": 20, "boxLabel": "BOX-50"},
                {"id": "2", "size": None, "boxLabel": "BOX-?"},
                {"id": "3", "size": 47, "boxLabel": "BOX-120"},
            ]
        }
    }
    assert [r["size"] for r in run.reps("shipping")[0]] == [50, None, 120]
