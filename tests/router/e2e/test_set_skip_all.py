"""``skip_all`` set over real HTTP: ``@skip``/``@include`` removing every sub-field of a field
(issue 14 class 9). A subgraph refuses an empty selection set, so the router asks for
``__typename`` in its place and the client gets ``{}``, as Apollo Gateway answers."""

from __future__ import annotations

import pytest


async def test_non_null_root_field_with_every_sub_field_skipped(run_set):
    run = await run_set("skip_all")
    body = await run.query("{ rule { amount @skip(if: true) } }")
    assert body == {"data": {"rule": {}}}
    assert run.calls() == ["catalog"]
    [sent] = run.apps["catalog"].requests
    assert "rule { __typename }" in sent["query"]


async def test_nested_value_object_emptied_next_to_a_kept_field(run_set):
    run = await run_set("skip_all")
    body = await run.query("{ rule { band { name @include(if: false) } threshold } }")
    assert body == {"data": {"rule": {"band": {}, "threshold": 5_000_000}}}
    assert run.calls() == ["catalog"]


async def test_skipped_fragment_leaves_an_empty_object(run_set):
    run = await run_set("skip_all")
    body = await run.query('{ product(id: "p1") { ... on Product @skip(if: true) { name } } }')
    assert body == {"data": {"product": {}}}
    body = await run.query('{ product(id: "p1") { ...N @include(if: false) } } fragment N on Product { name }')
    assert body == {"data": {"product": {}}}
    assert run.calls() == ["catalog", "catalog"]


async def test_skipped_field_of_another_subgraph_costs_no_fetch(run_set):
    run = await run_set("skip_all")
    body = await run.query("{ products { id reviews @include(if: false) { body } } }")
    assert body == {"data": {"products": [{"id": "p1"}, {"id": "p2"}]}}
    assert run.calls() == ["catalog"]


async def test_entity_list_with_every_sub_field_skipped(run_set):
    run = await run_set("skip_all")
    body = await run.query('{ product(id: "p1") { name reviews { body @skip(if: true) } } }')
    assert body == {"data": {"product": {"name": "Kettle", "reviews": [{}]}}}
    assert run.calls() == ["catalog", "reviews"]


@pytest.mark.parametrize(("skip", "rule"), [(True, {}), (False, {"amount": 10_000})])
async def test_variable_condition_removing_every_sub_field(run_set, skip, rule):
    run = await run_set("skip_all")
    body = await run.query("query($s: Boolean!) { rule { amount @skip(if: $s) } }", {"s": skip})
    assert body == {"data": {"rule": rule}}
    assert run.calls() == ["catalog"]


@pytest.mark.parametrize(("skip", "calls"), [(True, ["catalog"]), (False, ["catalog", "reviews"])])
async def test_variable_condition_on_the_only_field_of_an_entity_jump(run_set, skip, calls):
    run = await run_set("skip_all")
    body = await run.query("query($s: Boolean!) { products { rating @skip(if: $s) } }", {"s": skip})
    expected = [{}, {}] if skip else [{"rating": 5}, {"rating": 2}]
    assert body == {"data": {"products": expected}}
    assert run.calls() == calls
