"""``advanced`` and ``fed1_mixed`` sets over real HTTP (``sets/advanced.py``,
``sets/fed1_mixed.py``)."""

from __future__ import annotations

import pytest

# Each case runs on the checked-in reference composition of the set and on ours (router.composition).
pytestmark = pytest.mark.parametrize("ours", [False, True], ids=["reference_composer", "our_composer"])


async def test_value_type_only_one_graph_fully_resolves(run_set, ours):
    run = await run_set("advanced", ours=ours)
    assert await run.query("{ store { name location { city } } }") == {
        "data": {"store": {"name": "Corner Shop", "location": {"city": "Leeds"}}}
    }
    assert run.calls() == ["b"]


async def test_provides_on_union_member(run_set, ours):
    run = await run_set("advanced", ours=ours)
    body = await run.query("{ shelf { items { __typename ... on Book { title } ... on Film { title } } } }")
    assert body == {
        "data": {
            "shelf": {
                "items": [
                    {"__typename": "Book", "title": "Dune"},
                    {"__typename": "Film", "title": "Heat"},
                    {"__typename": "Book", "title": "Emma"},
                ]
            }
        }
    }
    assert run.calls() == ["a", "c"]
    assert run.reps("c") == [[{"__typename": "Film", "id": "f1"}]]  # book titles were provided


async def test_requires_through_fragments_on_an_external_union(run_set, ours):
    run = await run_set("advanced", ours=ours)
    body = await run.query("{ topItems { id summary } }")
    assert body == {
        "data": {
            "topItems": [
                {"id": "i1", "summary": "book 978-1"},
                {"id": "i2", "summary": "film 170 min"},
                {"id": "i3", "summary": "nothing"},
            ]
        }
    }
    assert run.calls() == ["b", "a", "c", "b"]
    [reps] = run.reps("b")
    by_id = {r["id"]: r["media"] for r in reps}
    assert by_id == {
        "i1": {"__typename": "Book", "isbn": "978-1"},
        "i2": {"__typename": "Film", "duration": 170},
        "i3": None,
    }


async def test_fed1_requires_and_extension_key(run_set, ours):
    run = await run_set("fed1_mixed", ours=ours)
    body = await run.query("{ topProducts { name inStock shipping } }")
    assert body == {
        "data": {
            "topProducts": [
                {"name": "Table", "inStock": True, "shipping": 100},
                {"name": "Lamp", "inStock": False, "shipping": 10},
                {"name": "Sofa", "inStock": True, "shipping": 300},
            ]
        }
    }
    assert run.calls() == ["products", "inventory"]
    assert run.reps("inventory") == [
        [{"__typename": "Product", "upc": u, "weight": w} for u, w in (("1", 20), ("2", 2), ("3", 60))]
    ]


async def test_fed1_graph_as_root_then_owner(run_set, ours):
    run = await run_set("fed1_mixed", ours=ours)
    assert await run.query("{ lowStock { upc name inStock } warehouses { id } }") == {
        "data": {
            "lowStock": [{"upc": "2", "name": "Lamp", "inStock": False}],
            "warehouses": [{"id": "w1"}, {"id": "w2"}],
        }
    }
    assert run.calls() == ["inventory", "products"]  # upc resolves locally (extension key); one root fetch
