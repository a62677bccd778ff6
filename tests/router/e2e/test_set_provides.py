"""``provides`` set over real HTTP: 100 reviews by 3 authors (``sets/provides.py``)."""

from __future__ import annotations

import pytest

# Each case runs on the checked-in reference composition of the set and on ours (router.composition).
pytestmark = pytest.mark.parametrize("ours", [False, True], ids=["reference_composer", "our_composer"])

NAMES = {"u1": "Ada", "u2": "Bob", "u3": "Cyd"}
AUTHOR_OF = {f"r{i}": ["u1", "u2", "u3"][i % 3] for i in range(1, 101)}


async def test_provided_field_costs_no_fetch(run_set, ours):
    run = await run_set("provides", ours=ours)
    body = await run.query("{ reviews { id author { name } } }")
    assert body == {"data": {"reviews": [{"id": r, "author": {"name": NAMES[u]}} for r, u in AUTHOR_OF.items()]}}
    assert run.calls() == ["reviews"]


async def test_unprovided_field_jumps_once_with_three_representations(run_set, ours):
    run = await run_set("provides", ours=ours)
    body = await run.query("{ reviews { author { name email } } }")
    emails = {"u1": "ada@example.com", "u2": "bob@example.com", "u3": "cyd@example.com"}
    assert body == {
        "data": {"reviews": [{"author": {"name": NAMES[u], "email": emails[u]}} for u in AUTHOR_OF.values()]}
    }
    assert run.calls() == ["reviews", "users"]
    [reps] = run.reps("users")
    assert sorted(r["id"] for r in reps) == ["u1", "u2", "u3"]
