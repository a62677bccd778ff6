"""Abstract types whose members differ per graph (issue 14 classes 4 to 7), over real HTTP: ``override_iface``,
``no_plan``, ``inaccessible_types``, ``partial_abstract``. Answers checked against Apollo Gateway and Hive Gateway
by the differential test (these sets are in it); where they differ, docs/router.md §9 Checked against the reference gateways says which we follow."""

from __future__ import annotations

NO_ROUTE_TO_B = (
    '@join__type(graph: B, key: "id")',
    '@join__type(graph: B, key: "id", resolvable: false)',
)


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


# -- class 5: no valid plan for one runtime type ---------------------------------------------------------------


async def test_field_without_a_plan_for_one_runtime_type_is_an_error_with_null_data(run_set):
    run = await run_set("no_plan", edit=lambda sdl: sdl.replace(*NO_ROUTE_TO_B))
    body = await run.query("{ things { id name } }")
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNSATISFIABLE" and "Beta.name" in error["message"]
    assert run.calls() == []  # nothing is fetched for a plan that cannot be built


async def test_the_same_field_for_the_plannable_runtime_type_still_answers(run_set):
    run = await run_set("no_plan", edit=lambda sdl: sdl.replace(*NO_ROUTE_TO_B))
    body = await run.query("{ things { id ... on Alpha { name } } }")
    assert body == {"data": {"things": [{"id": "x1", "name": "Alpha one"}, {"id": "y1"}]}}
    assert run.calls() == ["a"]


async def test_with_the_key_resolvable_the_runtime_type_is_planned_through_it(run_set):
    run = await run_set("no_plan")
    body = await run.query("{ things { id name ... on Beta { size } } }")
    assert body == {
        "data": {"things": [{"id": "x1", "name": "Alpha one"}, {"id": "y1", "name": "Beta one", "size": 8}]}
    }
    assert run.calls() == ["a", "b", "a"]  # size @requires name: b first, then back into a


# -- class 6: @inaccessible runtime types ------------------------------------------------------------------------


async def test_object_of_an_inaccessible_type_in_a_list_is_null_with_an_error(run_set):
    run = await run_set("inaccessible_types")
    body = await run.query("{ results { __typename ... on Book { id pages } } }")
    assert body["data"] == {
        "results": [
            {"__typename": "Book", "id": "b1", "pages": 412},
            None,
            {"__typename": "Book", "id": "b2", "pages": 474},
        ]
    }
    (error,) = body["errors"]
    assert error["path"] == ["results", 1] and "__typename" in error["message"]
    assert "Draft" not in str(body)  # the hidden type's name never reaches the client


async def test_inaccessible_runtime_type_on_a_nullable_field(run_set):
    run = await run_set("inaccessible_types")
    body = await run.query('{ first { __typename } node(id: "d1") { id } }')
    assert body["data"] == {"first": None, "node": None}
    assert sorted(tuple(e["path"]) for e in body["errors"]) == [("first",), ("node",)]
    assert "Draft" not in str(body)


async def test_inaccessible_runtime_type_in_a_non_null_list_nulls_the_parent(run_set):
    run = await run_set("inaccessible_types")
    body = await run.query("{ nodes { id } }")
    assert body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["nodes", 1]]
    assert "Draft" not in str(body)


# -- class 7: unions and interfaces each graph knows only partly ---------------------------------------------------


async def test_graph_is_asked_only_for_the_union_members_it_knows(run_set):
    run = await run_set("partial_abstract")
    body = await run.query("{ aOnly { __typename ... on Song { name } ... on Book { pages } ... on Movie { name } } }")
    assert body == {"data": {"aOnly": [{"__typename": "Book", "pages": 474}, {"__typename": "Movie", "name": "Heat"}]}}
    assert run.calls() == ["a", "b"]
    (a,) = run.apps["a"].requests
    assert "Song" not in a["query"]
    assert run.reps("b") == [[{"__typename": "Book", "id": "b2"}]]


async def test_graph_is_asked_only_for_the_implementations_it_knows(run_set):
    run = await run_set("partial_abstract")
    body = await run.query("{ named { name ... on Movie { id } ... on Book { pages } } }")
    assert body == {"data": {"named": [{"name": "Lagu"}, {"name": "Dune", "pages": 412}]}}
    assert run.calls() == ["b"]
    (b,) = run.apps["b"].requests
    assert "Movie" not in b["query"]


async def test_shared_union_field_goes_to_the_graph_knowing_the_members_asked_for(run_set):
    run = await run_set("partial_abstract")
    body = await run.query("{ feed { ... on Movie { name } ... on Song { name } ... on Book { name pages } } }")
    assert body == {"data": {"feed": [{"name": "Dune", "pages": 412}, {"name": "Emma", "pages": 474}]}}
    assert run.calls() == ["b"]
