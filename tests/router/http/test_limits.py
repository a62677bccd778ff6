"""Limits layer: body size (413) and depth / aliases / root fields on the parsed document."""

from __future__ import annotations

import httpx
import pytest
from graphql import get_introspection_query

from router.layers.limits import check_operation_limits
from router.settings import DEFAULT_MAX_DEPTH, LimitsSettings

GQL_RESPONSE = "application/graphql-response+json"


def _codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


async def test_body_over_the_limit_is_413(make_client) -> None:
    client = make_client(limits={"max_body_bytes": 100})
    small = await client.post("/graphql", json={"query": "{ hello }"})
    assert small.status_code == 200
    big = await client.post("/graphql", json={"query": "{ hello }", "variables": {"pad": "x" * 200}})
    assert big.status_code == 413
    assert _codes(big) == ["PAYLOAD_TOO_LARGE"]


async def test_body_limit_without_content_length(make_client) -> None:
    client = make_client(limits={"max_body_bytes": 100})

    async def chunks():
        yield b'{"query": "{ hello }", "variables": {"pad": "'
        yield b"x" * 200
        yield b'"}}'

    response = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_depth_limit(make_client, subgraph) -> None:
    client = make_client(limits={"max_depth": 3})
    ok = await client.post("/graphql", json={"query": "{ me { friends { name } } }"})
    assert ok.json()["data"]["me"]["friends"] == [{"name": "Grace"}]
    deep = await client.post(
        "/graphql", json={"query": "{ me { friends { friends { name } } } }"}, headers={"accept": GQL_RESPONSE}
    )
    assert deep.status_code == 400
    assert _codes(deep) == ["MAX_DEPTH_EXCEEDED"]
    assert deep.json()["errors"][0]["extensions"]["actual"] == 4
    assert "data" not in deep.json()
    assert len(subgraph.received) == 1  # the refused operation never reached the subgraph


async def test_depth_counts_through_fragments(make_client) -> None:
    client = make_client(limits={"max_depth": 3})
    query = """
        query { me { ...F } }
        fragment F on User { friends { ... on User { friends { id } } } }
    """
    response = await client.post("/graphql", json={"query": query})
    assert _codes(response) == ["MAX_DEPTH_EXCEEDED"]


async def test_alias_limit(make_client) -> None:
    client = make_client(limits={"max_aliases": 2})
    ok = await client.post("/graphql", json={"query": "{ a: hello b: hello(name: \"x\") }"})
    assert ok.json() == {"data": {"a": "hello world", "b": "hello x"}}
    query = "{ a: hello b: hello me { ...N } } fragment N on User { c: name }"
    many = await client.post("/graphql", json={"query": query})
    assert _codes(many) == ["MAX_ALIASES_EXCEEDED"]


async def test_root_field_limit_and_several_errors_at_once(make_client) -> None:
    client = make_client(limits={"max_root_fields": 2, "max_aliases": 1})
    response = await client.post("/graphql", json={"query": "{ a: hello b: hello c: hello }"})
    assert sorted(_codes(response)) == ["MAX_ALIASES_EXCEEDED", "MAX_ROOT_FIELDS_EXCEEDED"]
    assert response.status_code == 200  # legacy application/json: request errors stay 200


async def test_limit_applies_to_the_selected_operation(make_client) -> None:
    client = make_client(limits={"max_root_fields": 1})
    query = "query Small { hello } query Big { hello me { id } }"
    small = await client.post("/graphql", json={"query": query, "operationName": "Small"})
    assert small.json() == {"data": {"hello": "hello world"}}
    big = await client.post("/graphql", json={"query": query, "operationName": "Big"})
    assert _codes(big) == ["MAX_ROOT_FIELDS_EXCEEDED"]


async def test_limits_can_be_disabled(make_client) -> None:
    client = make_client(limits={"max_depth": None, "max_aliases": None, "max_root_fields": None, "max_body_bytes": None})
    response = await client.post("/graphql", json={"query": "{ me { friends { friends { name } } } }"})
    assert response.json() == {"data": {"me": {"friends": [{"friends": []}]}}}


def test_cyclic_fragments_do_not_hang_the_limits() -> None:
    query = "{ me { ...A } } fragment A on User { friends { ...B } } fragment B on User { friends { ...A } }"
    errors = check_operation_limits(LimitsSettings(max_depth=100), query)
    assert errors == []  # validation (in the gateway) rejects the cycle


def test_fragment_fan_out_is_counted_without_blowing_up() -> None:
    # Each fragment spreads the next one twice: 2**30 aliases if expanded naively.
    fragments = "".join(f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    query = "{ me { ...F0 } } " + fragments + " fragment F30 on User { x: id }"
    errors = check_operation_limits(LimitsSettings(max_aliases=1000), query)
    assert [e["extensions"]["code"] for e in errors] == ["MAX_ALIASES_EXCEEDED"]
    assert errors[0]["extensions"]["actual"] == 2**30


def test_default_depth_admits_graphiql_introspection() -> None:
    query = get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                                    schema_description=True, input_value_deprecation=True)
    assert check_operation_limits(LimitsSettings(), query) == []
    assert check_operation_limits(LimitsSettings(max_depth=DEFAULT_MAX_DEPTH - 5), query) != []


def test_unparsable_queries_are_left_to_the_gateway() -> None:
    assert check_operation_limits(LimitsSettings(max_depth=1), "{ a { b { c") == []


@pytest.mark.parametrize("name", [None, "Missing"])
def test_ambiguous_operation_is_left_to_the_gateway(name: str | None) -> None:
    query = "query A { a { b { c } } } query B { a }"
    assert check_operation_limits(LimitsSettings(max_depth=1), query, name) == []


async def test_body_limit_runs_before_decoding(make_client) -> None:
    client = make_client(limits={"max_body_bytes": 50})
    response = await client.post("/graphql", content=b"{" * 100, headers={"content-type": "application/json"})
    assert response.status_code == 413  # not 400: the body is refused before it is parsed
