"""execute_plan with a scripted SubgraphClient: entity batching edge cases and rewrites."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from router.execution import deep_merge, execute_plan
from router.planning.query_plan import (
    FetchNode,
    FieldSelection,
    FlattenNode,
    InlineFragmentSelection,
    KeyRenamer,
    QueryPlan,
    SequenceNode,
    ValueSetter,
)
from router.subgraph_client import SubgraphFetchError

from .plans import key


class Scripted:
    """Answers each subgraph with a function of the request body; records requests."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.sent: list[tuple[str, dict[str, Any], Mapping[str, str]]] = []

    async def fetch(self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        self.sent.append((subgraph, body, headers))
        answer = self.answers[subgraph]
        if isinstance(answer, Exception):
            raise answer
        return answer(body) if callable(answer) else answer


ROOT = FetchNode("a", "{ items { __typename id } }")
ENTITY = FetchNode(
    "b",
    "query($representations: [_Any!]!) { _entities(representations: $representations) { ... on T { v } } }",
    requires=key("T", "id"),
)
PLAN = QueryPlan(SequenceNode((ROOT, FlattenNode(("items", "@"), ENTITY))))


def _items(*ids: Any) -> dict[str, Any]:
    return {"data": {"items": [None if i is None else {"__typename": "T", "id": i} for i in ids]}}


async def test_entities_skip_missing_keys_and_dedupe():
    items = _items("1", "2", "1", None)
    items["data"]["items"].append({"__typename": "T"})  # no key: skipped, no error
    client = Scripted(
        a=items,
        b=lambda body: {"data": {"_entities": [{"v": r["id"] * 2} for r in body["variables"]["representations"]]}},
    )
    out = await execute_plan(PLAN, client=client, headers={"authorization": "x"})
    assert out.errors == []
    assert client.sent[1][1]["variables"] == {
        "representations": [{"__typename": "T", "id": "1"}, {"__typename": "T", "id": "2"}]
    }
    assert client.sent[1][2] == {"authorization": "x"}
    assert out.data["items"] == [
        {"__typename": "T", "id": "1", "v": "11"},
        {"__typename": "T", "id": "2", "v": "22"},
        {"__typename": "T", "id": "1", "v": "11"},
        None,
        {"__typename": "T"},
    ]


async def test_no_representations_means_no_request():
    client = Scripted(a={"data": {"items": []}}, b=AssertionError("must not be called"))
    out = await execute_plan(PLAN, client=client)
    assert [s for s, _, _ in client.sent] == ["a"] and out.errors == []


async def test_wrong_entities_length_is_an_error_and_merges_nothing():
    client = Scripted(a=_items("1", "2"), b={"data": {"_entities": [{"v": 1}]}})
    out = await execute_plan(PLAN, client=client)
    assert out.data["items"] == [{"__typename": "T", "id": "1"}, {"__typename": "T", "id": "2"}]
    [err] = out.errors
    assert err["extensions"]["code"] == "SUBGRAPH_FETCH_FAILED" and "1 _entities for 2" in err["message"]
    assert set(out.covered) == {("items", 0), ("items", 1)}


async def test_fetch_failure_covers_affected_paths_and_later_steps_still_run():
    client = Scripted(a=SubgraphFetchError("a", "request timed out"), b=AssertionError("no inputs"))
    out = await execute_plan(PLAN, client=client)
    [err] = out.errors
    assert err == {
        "message": "HTTP fetch failed from 'a': request timed out",
        "extensions": {"code": "SUBGRAPH_FETCH_FAILED", "serviceName": "a"},
    }
    assert out.covered == [("items",)]


async def test_root_errors_keep_paths_and_gain_service_name():
    client = Scripted(
        a={
            "data": {"items": None},
            "errors": [{"message": "nope", "path": ["items"], "extensions": {"code": "FORBIDDEN"}}],
        },
        b=AssertionError,
    )
    out = await execute_plan(PLAN, client=client)
    assert out.errors == [
        {"message": "nope", "path": ["items"], "extensions": {"code": "FORBIDDEN", "serviceName": "a"}}
    ]


async def test_subgraph_errors_can_be_redacted():
    client = Scripted(a={"data": None, "errors": [{"message": "secret detail"}]}, b=AssertionError)
    out = await execute_plan(PLAN, client=client, include_subgraph_errors=False)
    assert out.errors == [
        {"message": "Subgraph errors redacted", "extensions": {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "a"}}
    ]


async def test_input_and_output_rewrites():
    # interfaceObject-style: send the interface name as __typename, rename an internal alias back.
    entity = FetchNode(
        "b",
        "query($representations: [_Any!]!) { _entities(representations: $representations) { ... on I { _alias: v } } }",
        requires=(
            InlineFragmentSelection(
                "T", (FieldSelection("__typename"), FieldSelection("id"), FieldSelection("w", alias="_w"))
            ),
        ),
        input_rewrites=(ValueSetter(("... on T", "__typename"), "I"), KeyRenamer(("... on I", "_w"), "w")),
        output_rewrites=(KeyRenamer(("_alias",), "v"),),
    )
    plan = QueryPlan(SequenceNode((ROOT, FlattenNode(("items", "@"), entity))))
    client = Scripted(
        a={"data": {"items": [{"__typename": "T", "id": "1", "_w": 5}]}},
        b={"data": {"_entities": [{"_alias": 42}]}},
    )
    out = await execute_plan(plan, client=client)
    assert client.sent[1][1]["variables"]["representations"] == [{"__typename": "I", "id": "1", "w": 5}]
    assert out.data["items"][0] == {"__typename": "T", "id": "1", "_w": 5, "v": 42}


async def test_nested_lists_and_type_filter_paths():
    plan = QueryPlan(
        SequenceNode(
            (
                FetchNode("a", "{ grid { __typename id } }"),
                FlattenNode(("grid", "@", "... on T"), ENTITY),
            )
        )
    )
    grid = [[{"__typename": "T", "id": "1"}, {"__typename": "U", "id": "2"}], [{"__typename": "T", "id": "3"}]]
    client = Scripted(
        a={"data": {"grid": grid}},
        b=lambda body: {
            "data": {"_entities": [None, {"v": "x"}]},
            "errors": [{"message": "gone", "path": ["_entities", 0, "v"]}],
        },
    )
    out = await execute_plan(plan, client=client)
    assert client.sent[1][1]["variables"]["representations"] == [
        {"__typename": "T", "id": "1"},
        {"__typename": "T", "id": "3"},
    ]
    assert out.data["grid"][1][0]["v"] == "x"
    assert out.errors[0]["path"] == ["grid", 0, 0, "v"]


@pytest.mark.parametrize(
    ("target", "source", "expected"),
    [
        ({"a": {"x": 1}}, {"a": {"y": 2}}, {"a": {"x": 1, "y": 2}}),
        ({"a": 1}, {"a": None}, {"a": 1}),
        ({"l": [{"x": 1}, {"x": 2}]}, {"l": [{"y": 1}, {"y": 2}]}, {"l": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}),
        ({"a": None}, {"a": {"b": 1}}, {"a": {"b": 1}}),
    ],
)
def test_deep_merge(target, source, expected):
    deep_merge(target, source)
    assert target == expected


async def test_flatten_with_several_paths_sends_one_request():
    plan = QueryPlan(
        SequenceNode(
            (
                FetchNode("a", "{ left { __typename id } right { __typename id } }"),
                FlattenNode(("left", "@"), ENTITY, paths=(("left", "@"), ("right",))),
            )
        )
    )
    client = Scripted(
        a={
            "data": {
                "left": [{"__typename": "T", "id": "1"}, {"__typename": "T", "id": "2"}],
                "right": {"__typename": "T", "id": "1"},
            }
        },
        b=lambda body: {
            "data": {"_entities": [{"v": r["id"]} for r in body["variables"]["representations"]]},
            "errors": [{"message": "e", "path": ["_entities", 0]}],
        },
    )
    out = await execute_plan(plan, client=client)
    assert [s for s, _, _ in client.sent] == ["a", "b"]
    assert len(client.sent[1][1]["variables"]["representations"]) == 2
    assert out.data["right"] == {"__typename": "T", "id": "1", "v": "1"}
    assert out.data["left"][1]["v"] == "2"
    assert sorted(e["path"] for e in out.errors) == [["left", 0], ["right"]]


async def test_representations_for_abstract_conditions_nested_requires_and_foreign_types():
    requires = (
        InlineFragmentSelection("Thing", (FieldSelection("__typename"), FieldSelection("id"))),
        InlineFragmentSelection(
            "Box",
            (
                FieldSelection("__typename"),
                FieldSelection("id"),
                FieldSelection("dims", selections=(FieldSelection("w"),)),
            ),
        ),
    )
    entity = FetchNode(
        "b",
        "query($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }",
        requires=requires,
    )
    plan = QueryPlan(SequenceNode((FetchNode("a", "{ items { __typename id } }"), FlattenNode(("items", "@"), entity))))
    items = [
        {"__typename": "Book", "id": "1"},  # Book implements Thing
        {"__typename": "Box", "id": "2", "dims": {"w": 3, "h": 4}},  # nested requires: only w is sent
        {"__typename": "Box", "id": "2", "dims": {"w": 3, "h": 9}},  # same representation: deduped
        {"__typename": "Cat", "id": "3"},  # no fragment applies: not sent
    ]
    client = Scripted(
        a={"data": {"items": items}},
        b=lambda body: {"data": {"_entities": [{"seen": True} for _ in body["variables"]["representations"]]}},
    )
    out = await execute_plan(plan, client=client, possible_types={"Thing": frozenset({"Book"})})
    assert client.sent[1][1]["variables"]["representations"] == [
        {"__typename": "Book", "id": "1"},
        {"__typename": "Box", "id": "2", "dims": {"w": 3}},
    ]
    assert [i.get("seen") for i in out.data["items"]] == [True, True, True, None]
