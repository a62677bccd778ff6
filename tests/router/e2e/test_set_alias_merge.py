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
