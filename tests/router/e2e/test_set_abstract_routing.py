"""Abstract types whose members differ per graph (issue 14 classes 4 to 7), over real HTTP: ``override_iface``,
``no_plan``, ``inaccessible_types``, ``partial_abstract``. Answers checked against Apollo Gateway and Hive Gateway
by the differential test (these sets are in it); where they differ, docs/router.md §9 says which we follow."""

from __future__ import annotations

# -- class 4: @override on an implementation of an interface field -------------------------------------------


async def test_interface_field_overridden_on_one_implementation_is_planned_per_type(run_set):
    run = await run_set("override_iface")
    body = await run.query("{ items { id price } }")
    # catalog still answers -1 for a Book's price: it must not be read from there
    assert body == {
        "data": {"items": [{"id": "b1", "price": 120}, {"id": "p1", "price": 15}, {"id": "b2", "price": 90}]}
    }
    assert run.calls() == ["catalog", "pricing"]
    (catalog,) = run.apps["catalog"].requests
    assert "... on Pen { price }" in catalog["query"] and "... on Book { __typename id }" in catalog["query"]
    assert run.reps("pricing") == [[{"__typename": "Book", "id": "b1"}, {"__typename": "Book", "id": "b2"}]]


async def test_overridden_interface_field_on_a_single_object(run_set):
    run = await run_set("override_iface")
    assert await run.query('{ item(id: "b1") { price label } }') == {"data": {"item": {"price": 120, "label": "Novel"}}}
    assert run.calls() == ["catalog", "pricing"]
    run.reset()
    # a Pen's price stays in catalog: one fetch
    assert await run.query('{ item(id: "p1") { price label } }') == {
        "data": {"item": {"price": 15, "label": "Gel pen"}}
    }
    assert run.calls() == ["catalog"]  # no Book among the answers: no pricing fetch


async def test_shareable_implementation_field_needs_no_extra_fetch(run_set):
    run = await run_set("override_iface")
    body = await run.query("{ items { label } }")
    assert body == {"data": {"items": [{"label": "Novel"}, {"label": "Gel pen"}, {"label": "Atlas"}]}}
    assert run.calls() == ["catalog"]
