"""``entity_paths`` set over real HTTP: one entity type reached from several paths of one operation
(issue 14 class 10). Errors belong only at the path of the field that raised them, each path gets
only the fields it selected, and null propagation never wipes out a sibling path's data."""

from __future__ import annotations


def _error_paths(body):
    return sorted(e["path"] for e in body.get("errors", []))


async def test_failing_field_on_one_path_leaves_the_other_path_whole(run_set):
    run = await run_set("entity_paths")
    body = await run.query("{ topProducts { id stock } featured { id audit } }")
    assert body["data"] == {"topProducts": [{"id": "p1", "stock": 3}, {"id": "p2", "stock": 0}], "featured": None}
    assert _error_paths(body) == [["featured", "audit"]]
    [error] = body["errors"]
    assert error["message"] == "audit unavailable for p1"
    assert error["extensions"]["serviceName"] == "inventory"
    # Different selections: one _entities call per path (in parallel), as Apollo Gateway does.
    assert sorted(run.calls()) == ["catalog", "inventory", "inventory"]
    for body_sent in run.apps["inventory"].entity_requests():
        query = body_sent["query"]
        assert ("stock" in query) != ("audit" in query)


async def test_nullable_field_error_is_reported_only_where_it_was_asked_for(run_set):
    run = await run_set("entity_paths")
    body = await run.query("{ topProducts { stock note } shelf { products { stock } } }")
    assert body["data"] == {
        "topProducts": [{"stock": 3, "note": "note p1"}, {"stock": 0, "note": None}],
        "shelf": {"products": [{"stock": 0}, {"stock": 7}]},
    }
    assert _error_paths(body) == [["topProducts", 1, "note"]]
    assert sorted(run.calls()) == ["catalog", "inventory", "inventory"]


async def test_same_selection_on_two_paths_is_one_call(run_set):
    run = await run_set("entity_paths")
    body = await run.query("{ topProducts { id stock } shelf { label products { id stock } } }")
    assert body == {
        "data": {
            "topProducts": [{"id": "p1", "stock": 3}, {"id": "p2", "stock": 0}],
            "shelf": {"label": "new", "products": [{"id": "p2", "stock": 0}, {"id": "p3", "stock": 7}]},
        }
    }
    assert run.calls() == ["catalog", "inventory"]
    [reps] = run.reps("inventory")
    assert [r["id"] for r in reps] == ["p1", "p2", "p3"]  # p2 sent once for both paths


async def test_same_selection_on_two_paths_reports_the_error_at_both(run_set):
    run = await run_set("entity_paths")
    body = await run.query("{ topProducts { note } shelf { products { note } } }")
    assert body["data"] == {
        "topProducts": [{"note": "note p1"}, {"note": None}],
        "shelf": {"products": [{"note": None}, {"note": "note p3"}]},
    }
    assert _error_paths(body) == [["shelf", "products", 0, "note"], ["topProducts", 1, "note"]]
    assert run.calls() == ["catalog", "inventory"]


async def test_non_null_failure_inside_a_list_nulls_only_its_own_path(run_set):
    run = await run_set("entity_paths")
    body = await run.query("{ featured { name } topProducts { audit } shelf { products { id stock } } }")
    # topProducts: [Product!]! and audit: String! -> the failure bubbles to data.topProducts's parent (data).
    assert body["data"] is None
    assert _error_paths(body) == [["topProducts", 0, "audit"]]
    body = await run.query("{ featured { name audit } shelf { products { id stock } } }")
    assert body["data"] == {
        "featured": None,
        "shelf": {"products": [{"id": "p2", "stock": 0}, {"id": "p3", "stock": 7}]},
    }
    assert _error_paths(body) == [["featured", "audit"]]
