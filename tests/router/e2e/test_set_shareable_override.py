"""``shareable`` and ``override`` sets over real HTTP (``sets/shareable.py``, ``sets/override.py``)."""

from __future__ import annotations

from graphql import parse
from graphql.language import FieldNode, InlineFragmentNode, OperationDefinitionNode


async def test_shareable_value_type_served_by_the_current_graph(run_set):
    run = await run_set("shareable")
    body = await run.query("{ featured { id name price { amount currency } } }")
    assert body == {"data": {"featured": {"id": "1", "name": "Pen", "price": {"amount": 3, "currency": "EUR"}}}}
    assert run.calls() == ["a"]
    run.reset()
    body = await run.query("{ newest { name price { amount } inA } }")
    assert body == {"data": {"newest": {"name": "Ink", "price": {"amount": 12}, "inA": 11}}}
    assert run.calls() == ["b", "a"]
    assert run.reps("a") == [[{"__typename": "Product", "id": "2"}]]


async def test_shareable_root_picks_the_graph_covering_the_subtree(run_set):
    run = await run_set("shareable")
    assert await run.query('{ product(id: "2") { name inA } }') == {"data": {"product": {"name": "Ink", "inA": 11}}}
    assert run.calls() == ["a"]
    run.reset()
    assert await run.query('{ product(id: "1") { price { currency } inB } }') == {
        "data": {"product": {"price": {"currency": "EUR"}, "inB": 20}}
    }
    assert run.calls() == ["b"]


def _entity_fields(body: dict) -> set[str]:
    """Field names the subgraph was asked for inside ``_entities { ... on T { ... } }``."""
    op = next(d for d in parse(body["query"]).definitions if isinstance(d, OperationDefinitionNode))
    [entities] = op.selection_set.selections
    assert isinstance(entities, FieldNode) and entities.name.value == "_entities"
    assert entities.selection_set is not None
    return {
        sel.name.value
        for frag in entities.selection_set.selections
        if isinstance(frag, InlineFragmentNode)
        for sel in frag.selection_set.selections
        if isinstance(sel, FieldNode)
    }


async def test_override_moves_fields_to_the_new_graph(run_set):
    run = await run_set("override")
    body = await run.query("{ products { id price name } }")
    assert body == {
        "data": {"products": [{"id": "1", "price": 10, "name": "Bolt"}, {"id": "2", "price": 20, "name": "Nut"}]}
    }
    assert run.calls() == ["catalog", "pricing"]
    [entity_call] = run.apps["pricing"].entity_requests()
    assert _entity_fields(entity_call) >= {"price", "name"}


async def test_progressive_override_follows_the_label(run_set):
    run = await run_set("override")
    expected = {"data": {"products": [{"stock": 5}, {"stock": 0}]}}
    assert await run.query("{ products { stock } }") == expected
    assert run.calls() == ["catalog"]  # label off: catalog still owns stock
    run.reset()
    assert await run.query("{ products { stock } }", override_labels=frozenset({"percent(50)"})) == expected
    assert run.calls() == ["catalog", "pricing"]
    [entity_call] = run.apps["pricing"].entity_requests()
    assert "stock" in _entity_fields(entity_call)
    assert "stock" not in run.apps["catalog"].requests[0]["query"]
