"""``plan_cost`` set over real HTTP: the planner counts fields an ``@provides`` path makes local when
it weighs candidate graphs, so a shared root field goes to the graph that needs no extra entity
fetch (issue 14 class 11; the lean-mode table in test_plan_quality.py covers every set)."""

from __future__ import annotations

import pytest

# Each case runs on the checked-in reference composition of the set and on ours (router.composition).
pytestmark = pytest.mark.parametrize("ours", [False, True], ids=["reference_composer", "our_composer"])


async def test_provides_path_beats_an_extra_entity_fetch(run_set, ours):
    run = await run_set("plan_cost", ours=ours)
    body = await run.query("{ latestReview { body author { id name } } }")
    assert body == {"data": {"latestReview": {"body": "works", "author": {"id": "u1", "name": "Ada"}}}}
    assert run.calls() == ["reviews"]


async def test_unprovided_field_still_jumps_from_the_provides_graph(run_set, ours):
    run = await run_set("plan_cost", ours=ours)
    body = await run.query("{ latestReview { author { name email } product { sku stock } } }")
    assert body == {
        "data": {
            "latestReview": {
                "author": {"name": "Ada", "email": "ada@example.com"},
                "product": {"sku": "KT-1", "stock": 4},
            }
        }
    }
    assert sorted(run.calls()) == ["inventory", "reviews", "users"]


async def test_shareable_field_rides_along_with_the_graph_needed_anyway(run_set, ours):
    run = await run_set("plan_cost", ours=ours)
    body = await run.query("{ latestReview { product { sku price } } }")
    assert body == {"data": {"latestReview": {"product": {"sku": "KT-1", "price": 120}}}}
    assert run.calls() == ["feed", "pricing"]
