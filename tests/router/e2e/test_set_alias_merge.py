"""``alias_merge`` set over real HTTP: a field selected on an interface and again under a type
condition whose subgraph types conflict (``Media.meta: Meta`` vs ``Book.meta: Meta!`` in media).
The planner sends one copy under an internal alias; the executor deep-merges it into the object
already at that key, never replacing it (issue 14 class 8)."""

from __future__ import annotations

B1 = {"title": "Dune", "year": 1965, "credits": {"author": "Herbert", "editor": "Campbell"}}


async def test_aliased_copy_merges_into_the_interface_selection(run_set):
    run = await run_set("alias_merge")
    body = await run.query("{ feed { id meta { title } ... on Book { meta { year } } } }")
    assert body == {
        "data": {
            "feed": [
                {"id": "b1", "meta": {"title": "Dune", "year": 1965}},
                {"id": "m1", "meta": {"title": "Alien"}},
                {"id": "b2", "meta": {"title": "Emma", "year": 1815}},
            ]
        }
    }
    assert run.calls() == ["media"]
    [sent] = run.apps["media"].requests
    assert "_internal_qp_rename_" in sent["query"]  # the conflict really was aliased


async def test_nested_objects_under_the_aliased_key_keep_both_sides(run_set):
    run = await run_set("alias_merge")
    body = await run.query(
        "{ latest { meta { title credits { author } } ... on Book { meta { year credits { editor } } } } }"
    )
    assert body == {"data": {"latest": {"meta": B1}}}
    assert run.calls() == ["media"]


async def test_aliased_copy_with_an_entity_jump_beside_it(run_set):
    run = await run_set("alias_merge")
    body = await run.query(
        "{ feed { meta { credits { author } } ... on Book { shelf meta { credits { editor } year } } } }"
    )
    assert body == {
        "data": {
            "feed": [
                {"meta": {"credits": B1["credits"], "year": 1965}, "shelf": "S-b1"},
                {"meta": {"credits": {"author": "O'Bannon"}}},
                {"meta": {"credits": {"author": "Austen", "editor": "Murray"}, "year": 1815}, "shelf": "S-b2"},
            ]
        }
    }
    assert run.calls() == ["media", "archive"]


# Found by the differential test (tests/router/differential/, SETRUM_DIFF_SEED=random): both reference gateways
# answer null for fields of one of the two copies (docs/router.md §9 Checked against the reference gateways).


async def test_aliased_copies_of_the_same_leaf_on_interface_and_type_condition(run_set):
    # Apollo Gateway and Hive Gateway both answered `"year": null` for the interface's copy.
    run = await run_set("alias_merge")
    body = await run.query("{ latest { id meta { year } ... on Book { meta { a1: title a2: year } } } }")
    assert body == {"data": {"latest": {"id": "b1", "meta": {"year": 1965, "a1": "Dune", "a2": 1965}}}}
    assert run.calls() == ["media"]


async def test_interface_fragment_copy_keeps_every_field_beside_a_type_condition(run_set):
    # Through a named fragment on the interface: both references answered null for title, year and credits.
    run = await run_set("alias_merge")
    body = await run.query(
        "query { latest { ...F ... on Book { meta { a1: year } } } }"
        " fragment F on Media { meta { title year credits { author } } }"
    )
    assert body == {
        "data": {"latest": {"meta": {"title": "Dune", "year": 1965, "credits": {"author": "Herbert"}, "a1": 1965}}}
    }
    assert run.calls() == ["media"]


async def test_skipped_field_of_one_copy_is_still_answered_by_the_other(run_set):
    # `year` skipped on the interface's copy but selected under the type condition: the value comes from the
    # Book's copy (Apollo Gateway answered null; Hive Gateway's subgraph query was refused).
    run = await run_set("alias_merge")
    query = "query($s: Boolean!) { latest { meta { title year @skip(if: $s) } ... on Book { meta { year } } } }"
    assert await run.query(query, {"s": True}) == {"data": {"latest": {"meta": {"title": "Dune", "year": 1965}}}}
    assert run.calls() == ["media"]


async def test_nested_object_selected_by_both_copies_under_a_list(run_set):
    # credits under both copies, with aliases inside: every Book's editor kept (Apollo Gateway answered
    # `"credits": null` for the Book's copy).
    run = await run_set("alias_merge")
    body = await run.query("{ feed { meta { credits { author } } ... on Book { meta { credits { a1: editor } } } } }")
    assert body == {
        "data": {
            "feed": [
                {"meta": {"credits": {"author": "Herbert", "a1": "Campbell"}}},
                {"meta": {"credits": {"author": "O'Bannon"}}},
                {"meta": {"credits": {"author": "Austen", "a1": "Murray"}}},
            ]
        }
    }
    assert run.calls() == ["media"]
