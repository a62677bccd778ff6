"""Limits: body size (413) at the HTTP layer; tokens while parsing; depth, aliases, root fields and
fields as validation rules on the one parsed document; the validation error budget."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from graphql import get_introspection_query

from router.settings import DEFAULT_MAX_DEPTH

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
    ok = await client.post("/graphql", json={"query": '{ a: hello b: hello(name: "x") }'})
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
    client = make_client(
        limits={"max_depth": None, "max_aliases": None, "max_root_fields": None, "max_body_bytes": None}
    )
    response = await client.post("/graphql", json={"query": "{ me { friends { friends { name } } } }"})
    assert response.json() == {"data": {"me": {"friends": [{"friends": []}]}}}


async def test_cyclic_fragments_do_not_hang_the_limits(make_client, subgraph) -> None:
    client = make_client(limits={"max_depth": 100})
    query = "{ me { ...A } } fragment A on User { friends { ...B } } fragment B on User { friends { ...A } }"
    response = await client.post("/graphql", json={"query": query})
    assert _codes(response) == ["GRAPHQL_VALIDATION_FAILED"]  # validation rejects the cycle
    assert subgraph.received == []


async def test_fragment_fan_out_is_counted_without_blowing_up(make_client, subgraph) -> None:
    # Each fragment spreads the next one twice: 2**30 aliases if expanded naively.
    client = make_client(limits={"max_aliases": 1000, "max_fields": None})
    fragments = "".join(f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    query = "{ me { ...F0 } } " + fragments + " fragment F30 on User { x: id }"
    response = await client.post("/graphql", json={"query": query})
    assert _codes(response) == ["MAX_ALIASES_EXCEEDED"]
    assert response.json()["errors"][0]["extensions"]["actual"] == 2**30
    assert subgraph.received == []


async def test_default_limits_admit_graphiql_introspection(make_client) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    ok = await make_client(introspection=True).post("/graphql", json={"query": query})
    assert "errors" not in ok.json() and ok.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    shallow = make_client(introspection=True, limits={"max_depth": DEFAULT_MAX_DEPTH - 5})
    assert _codes(await shallow.post("/graphql", json={"query": query})) == ["MAX_DEPTH_EXCEEDED"]


async def test_unparsable_query_is_a_parse_error_not_a_limit(make_client) -> None:
    response = await make_client(limits={"max_depth": 1}).post("/graphql", json={"query": "{ a { b { c"})
    assert _codes(response) == ["GRAPHQL_PARSE_FAILED"]


@pytest.mark.parametrize("name", [None, "Missing"])
async def test_ambiguous_operation_is_a_validation_error_not_a_limit(make_client, name: str | None) -> None:
    query = "query A { me { friends { name } } } query B { hello }"
    response = await make_client(limits={"max_depth": 1}).post("/graphql", json={"query": query, "operationName": name})
    assert _codes(response) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_field_limit_counts_fragments_per_spread(make_client, subgraph) -> None:
    client = make_client(limits={"max_fields": 5})
    ok = await client.post("/graphql", json={"query": "{ me { id name friends { id } } }"})
    assert ok.json()["data"]["me"]["name"] == "Ada"
    query = "{ me { ...U friends { ...U } } } fragment U on User { id name }"
    response = await client.post("/graphql", json={"query": query})
    assert _codes(response) == ["MAX_FIELDS_EXCEEDED"]
    assert response.json()["errors"][0]["extensions"] == {"code": "MAX_FIELDS_EXCEEDED", "limit": 5, "actual": 6}
    assert len(subgraph.received) == 1  # only the first request reached the subgraph


async def test_fields_of_unused_fragments_count(make_client) -> None:
    # Unused fragments are not executed, but validation still has to look at them.
    query = "{ hello } fragment Big on User { " + "id " * 50 + "}"
    response = await make_client(limits={"max_fields": 10}).post("/graphql", json={"query": query})
    assert _codes(response) == ["MAX_FIELDS_EXCEEDED"]


async def test_token_limit(make_client) -> None:
    client = make_client(limits={"max_tokens": 10})
    assert (await client.post("/graphql", json={"query": "{ me { id name } }"})).json()["data"]["me"]["id"]
    response = await client.post("/graphql", json={"query": "{ me { id name friends { id } } }"})
    assert response.json()["errors"] == [
        {"message": "document has more than 10 tokens", "extensions": {"code": "MAX_TOKENS_EXCEEDED", "limit": 10}}
    ]
    # Comments count: a comment bomb costs the parser as much as a token bomb.
    commented = "{ me { id } }" + "\n#" * 20
    assert _codes(await client.post("/graphql", json={"query": commented})) == ["MAX_TOKENS_EXCEEDED"]
    # A long string is one token.
    long_string = '{ hello(name: "' + "x" * 5000 + '") }'
    assert (await client.post("/graphql", json={"query": long_string})).json()["data"]["hello"] == "hello " + "x" * 5000


async def test_the_repeated_field_attack_is_refused_without_reaching_a_subgraph(make_client, subgraph) -> None:
    # The attack of issue 12: 400,000 `id` selections (1.2 MB, under the 2 MB body limit).
    query = "{ me { " + "id " * 400_000 + "} }"
    response = await make_client().post("/graphql", json={"query": query}, headers={"accept": GQL_RESPONSE})
    assert response.status_code == 400
    assert "data" not in response.json()
    assert _codes(response) == ["MAX_TOKENS_EXCEEDED"]
    assert subgraph.received == []


async def test_field_limit_runs_before_graphql_core_validation(make_client, subgraph) -> None:
    # Under the token limit, the field limit refuses a repeated field before graphql-core's
    # field-merging rule (quadratic in same-named fields) looks at it.
    client = make_client(limits={"max_tokens": None})
    response = await client.post("/graphql", json={"query": "{ me { " + "id " * 3_000 + "} }"})
    assert response.json()["errors"] == [
        {
            "message": "operation fields 3001 exceeds the limit of 500",
            "extensions": {"code": "MAX_FIELDS_EXCEEDED", "limit": 500, "actual": 3001},
        }
    ]
    assert subgraph.received == []


async def test_validation_stops_at_the_error_budget(make_client) -> None:
    client = make_client(limits={"max_validation_errors": 3, "max_fields": None})
    query = "{ " + " ".join(f"f{i}" for i in range(20)) + " }"
    errors = (await client.post("/graphql", json={"query": query})).json()["errors"]
    assert len(errors) == 4  # three errors, then graphql-core's "validation aborted"
    assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in errors)


async def test_body_limit_runs_before_decoding(make_client) -> None:
    client = make_client(limits={"max_body_bytes": 50})
    response = await client.post("/graphql", content=b"{" * 100, headers={"content-type": "application/json"})
    assert response.status_code == 413  # not 400: the body is refused before it is parsed


async def test_long_refusals_are_not_kept_in_any_cache(make_client) -> None:
    # A flood of unique megabyte documents must not fill the document or operation caches.
    client = make_client()
    app = client._transport.app  # the ASGI app behind the test client
    gateway = app.state.gateway_pool.current
    before = gateway.cached_characters
    for n in range(5):
        query = "{ me { " + "id " * 100_000 + f"}} }} # {n}"
        assert _codes(await client.post("/graphql", json={"query": query})) == ["MAX_TOKENS_EXCEEDED"]
    assert gateway.cached_characters == before


async def test_large_bodies_pass_a_gate_and_wait_briefly(make_client) -> None:
    # One large body holds the only slot while it streams in; a second large body waits
    # large_body_wait_s, then is refused 503 OVERLOADED with Retry-After; small requests pass.
    client = make_client(limits={"large_body_bytes": 1_000, "max_large_bodies": 1, "large_body_wait_s": 0.2})
    release = asyncio.Event()
    padding = "x" * 5_000

    async def slow_body():
        yield b'{"query": "{ hello }", "variables": {"pad": "'
        yield padding.encode()
        await release.wait()
        yield b'"}}'

    headers = {"content-type": "application/json"}
    first = asyncio.create_task(client.post("/graphql", content=slow_body(), headers=headers))
    await asyncio.sleep(0.05)
    second = await client.post("/graphql", json={"query": "{ hello }", "variables": {"pad": padding}})
    assert second.status_code == 503
    assert second.headers["retry-after"] == "1"
    assert _codes(second) == ["OVERLOADED"]
    small = await client.post("/graphql", json={"query": "{ hello }"})
    assert small.json()["data"] == {"hello": "hello world"}
    release.set()
    assert (await first).json()["data"] == {"hello": "hello world"}
    third = await client.post("/graphql", json={"query": "{ hello }", "variables": {"pad": padding}})
    assert third.json()["data"] == {"hello": "hello world"}
