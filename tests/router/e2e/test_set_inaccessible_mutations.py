"""``inaccessible`` and ``mutations`` sets over real HTTP (``sets/inaccessible.py``,
``sets/mutations.py``)."""

from __future__ import annotations

import pytest


async def test_inaccessible_field_still_feeds_requires(run_set):
    run = await run_set("inaccessible")
    body = await run.query("{ products { id name label } }")
    assert body == {
        "data": {
            "products": [
                {"id": "1", "name": "Widget", "label": "LBL/W-1"},
                {"id": "2", "name": "Gadget", "label": "LBL/G-7"},
                {"id": "3", "name": "Gizmo", "label": "LBL/Z-3"},
            ]
        }
    }
    assert run.reps("b") == [
        [{"__typename": "Product", "id": i, "internalCode": c} for i, c in (("1", "W-1"), ("2", "G-7"), ("3", "Z-3"))]
    ]


async def test_inaccessible_enum_value_from_a_subgraph_projects_as_null(run_set):
    run = await run_set("inaccessible")
    query = "query F($f: Filter) { products(filter: $f) { name color } }"
    body = await run.query(query, {"f": {"name": "G"}})
    assert body == {
        "data": {"products": [{"name": "Gadget", "color": None}, {"name": "Gizmo", "color": None}]},
        "errors": [{"message": 'Enum "Color" cannot represent value: "BETA"', "path": ["products", 0, "color"]}],
    }


@pytest.mark.parametrize(
    ("query", "variables", "fragment"),
    [
        ("{ products { internalCode } }", None, "internalCode"),
        ("{ secret { value } }", None, "secret"),
        ("{ products(legacyFlag: true) { id } }", None, "legacyFlag"),
        ("{ products(filter: {internal: true}) { id } }", None, "internal"),
        ("query F($f: Filter) { products(filter: $f) { id } }", {"f": {"internal": True}}, "internal"),
    ],
)
async def test_inaccessible_elements_are_rejected_before_any_fetch(run_set, query, variables, fragment):
    run = await run_set("inaccessible")
    body = await run.query(query, variables)
    assert "data" not in body
    [error] = body["errors"]
    assert fragment in error["message"]
    assert error["extensions"]["code"] in {"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}
    assert run.calls() == []


async def test_mutations_run_in_order_with_follow_ups_in_between(run_set):
    run = await run_set("mutations")
    body = await run.query(
        """mutation M($name: String!) {
          u: createUser(name: $name) { id name }
          p: createPost(authorId: "u2", title: "Hello") { id title author { id name posts { title } } }
          r: renameUser(id: "u2", name: "Bea") { id name posts { title } }
        }""",
        {"name": "Bob"},
    )
    # author.name is read before the rename runs, so it is still "Bob".
    assert body == {
        "data": {
            "u": {"id": "u2", "name": "Bob"},
            "p": {"id": "p1", "title": "Hello", "author": {"id": "u2", "name": "Bob", "posts": [{"title": "Hello"}]}},
            "r": {"id": "u2", "name": "Bea", "posts": [{"title": "Hello"}]},
        }
    }
    assert run.calls() == ["users", "posts", "users", "users", "posts"]
    assert "createUser" in run.journal[0][1]["query"] and "renameUser" in run.journal[3][1]["query"]


async def test_adjacent_same_graph_mutations_share_one_ordered_fetch(run_set):
    run = await run_set("mutations")
    body = await run.query('mutation { a: createUser(name: "X") { id } b: renameUser(id: "u2", name: "Y") { name } }')
    assert body == {"data": {"a": {"id": "u2"}, "b": {"name": "Y"}}}
    assert run.calls() == ["users"]
    assert await run.query('{ user(id: "u2") { name } }') == {"data": {"user": {"name": "Y"}}}
