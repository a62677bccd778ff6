"""GraphQL over HTTP: methods, media types and status codes (spec §"Request", §"Response")."""

from __future__ import annotations

import json

import httpx
import pytest

GQL_RESPONSE = "application/graphql-response+json"
JSON_ = "application/json"
PREFLIGHT = {"apollo-require-preflight": "true"}  # GETs need it (CSRF prevention, test_edge_http.py)


def _code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


async def test_post_query_returns_data_as_json_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ me { id name friends { name } } }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON_)
    assert response.json() == {"data": {"me": {"id": "1", "name": "Ada", "friends": [{"name": "Grace"}]}}}


async def test_variables_and_operation_name_are_used(client: httpx.AsyncClient) -> None:
    query = "query A { hello } query B($n: String) { hello(name: $n) }"
    response = await client.post("/graphql", json={"query": query, "variables": {"n": "Budi"}, "operationName": "B"})
    assert response.json() == {"data": {"hello": "hello Budi"}}


async def test_graphql_response_json_when_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ hello }"}, headers={"accept": f"{GQL_RESPONSE}, {JSON_};q=0.9"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GQL_RESPONSE)
    assert response.json() == {"data": {"hello": "hello world"}}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{JSON_}, {GQL_RESPONSE};q=0.5", JSON_),
        ("*/*", JSON_),
        (f"{GQL_RESPONSE};q=0.4, */*;q=0.1", GQL_RESPONSE),
        ("application/*", JSON_),
    ],
)
async def test_accept_negotiation(client: httpx.AsyncClient, accept: str, expected: str) -> None:
    response = await client.post("/graphql", json={"query": "{ hello }"}, headers={"accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize("accept", ["text/plain", "application/xml", f"{GQL_RESPONSE};q=0, {JSON_};q=0"])
async def test_unacceptable_accept_is_406(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.post("/graphql", json={"query": "{ hello }"}, headers={"accept": accept})
    assert response.status_code == 406
    assert _code(response) == "NOT_ACCEPTABLE"


@pytest.mark.parametrize(
    ("query", "code"),
    [("{ hello(", "GRAPHQL_PARSE_FAILED"), ("{ nope }", "GRAPHQL_VALIDATION_FAILED")],
)
async def test_request_errors_are_400_with_graphql_response_json(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    response = await client.post("/graphql", json={"query": query}, headers={"accept": GQL_RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert _code(response) == code


async def test_request_errors_are_200_with_legacy_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ nope }"}, headers={"accept": JSON_})
    assert response.status_code == 200
    assert _code(response) == "GRAPHQL_VALIDATION_FAILED"


async def test_variable_coercion_error_is_a_request_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "mutation($n: String!) { rename(name: $n) }", "variables": {}},
        headers={"accept": GQL_RESPONSE},
    )
    assert response.status_code == 400
    assert _code(response) == "BAD_USER_INPUT"


async def test_get_query(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query Q($n: String) { hello(name: $n) }",
            "variables": json.dumps({"n": "Sari"}),
            "operationName": "Q",
        },
        headers=PREFLIGHT,
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello Sari"}}


@pytest.mark.parametrize("accept", [GQL_RESPONSE, JSON_])
async def test_mutation_over_get_is_405_and_not_executed(client: httpx.AsyncClient, subgraph, accept: str) -> None:
    response = await client.get(
        "/graphql", params={"query": 'mutation { rename(name: "x") }'}, headers={"accept": accept, **PREFLIGHT}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert _code(response) == "METHOD_NOT_ALLOWED"
    assert subgraph.received == []


async def test_mutation_over_post_runs(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": 'mutation { rename(name: "Eka") }'})
    assert response.json() == {"data": {"rename": "Eka"}}


async def test_other_methods_are_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.put("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert _code(response) == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
)
async def test_unsupported_content_type_is_415(client: httpx.AsyncClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    # PREFLIGHT gets non-JSON bodies past CSRF prevention (which refuses them first otherwise).
    response = await client.post("/graphql", content=b'{"query": "{ hello }"}', headers={**headers, **PREFLIGHT})
    assert response.status_code == 415
    assert _code(response) == "UNSUPPORTED_MEDIA_TYPE"


async def test_json_with_utf8_charset_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "{ hello }"}', headers={"content-type": "application/json; charset=UTF-8"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "INVALID_JSON"),
        (b'"just a string"', "INVALID_REQUEST"),
        (b"{}", "MISSING_QUERY"),
        (b'{"query": "  "}', "MISSING_QUERY"),
        (b'{"query": 42}', "INVALID_QUERY"),
        (b'{"query": "{ hello }", "variables": [1]}', "INVALID_VARIABLES"),
        (b'{"query": "{ hello }", "variables": "{}"}', "INVALID_VARIABLES"),
        (b'{"query": "{ hello }", "operationName": 3}', "INVALID_OPERATION_NAME"),
        (b'{"query": "{ hello }", "extensions": []}', "INVALID_EXTENSIONS"),
        (b'{"extensions": {"persistedQuery": "ab"}}', "INVALID_PERSISTED_QUERY"),
        (b'{"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "ab"}}}', "PERSISTED_QUERY_VERSION"),
        (b'[{"query": "{ hello }"}]', "BATCHING_NOT_ENABLED"),
    ],
)
@pytest.mark.parametrize("accept", [GQL_RESPONSE, JSON_])
async def test_malformed_requests_are_400(client: httpx.AsyncClient, body: bytes, code: str, accept: str) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": JSON_, "accept": accept})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(accept)
    assert _code(response) == code
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("params", "code"),
    [({}, "MISSING_QUERY"), ({"query": "{ hello }", "variables": "{oops"}, "INVALID_VARIABLES")],
)
async def test_malformed_get_is_400(client: httpx.AsyncClient, params: dict[str, str], code: str) -> None:
    response = await client.get("/graphql", params=params, headers=PREFLIGHT)
    assert response.status_code == 400
    assert _code(response) == code


async def test_batching_when_enabled(make_client) -> None:
    client = make_client(batching={"enabled": True, "max_size": 2})
    response = await client.post(
        "/graphql",
        json=[{"query": "{ hello }"}, {"query": "query($n: String) { hello(name: $n) }", "variables": {"n": "Tono"}}],
    )
    assert response.status_code == 200
    assert response.json() == [{"data": {"hello": "hello world"}}, {"data": {"hello": "hello Tono"}}]
    mixed = await client.post("/graphql", json=[{"query": "{ hello }"}, {"variables": {}}])
    assert mixed.status_code == 200
    assert mixed.json()[0] == {"data": {"hello": "hello world"}}
    assert mixed.json()[1]["errors"][0]["extensions"]["code"] == "MISSING_QUERY"
    too_many = await client.post("/graphql", json=[{"query": "{ hello }"}] * 3)
    assert too_many.status_code == 400
    assert _code(too_many) == "BATCH_LIMIT_EXCEEDED"


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient, subgraph) -> None:
    given = await client.post("/graphql", json={"query": "{ hello }"}, headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    assert subgraph.received[-1]["x-request-id"] == "abc-123"
    generated = await client.post(
        "/graphql", json={"query": "{ hello }"}, headers={"x-request-id": "bad id\twith space"}
    )
    assert generated.headers["x-request-id"] not in ("", "bad id\twith space")
    assert subgraph.received[-1]["x-request-id"] == generated.headers["x-request-id"]


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "UP"}


async def test_unknown_path_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert _code(response) == "NOT_FOUND"


async def test_query_plan_is_opt_in(make_client) -> None:
    hidden = make_client()
    response = await hidden.post("/graphql", json={"query": "{ hello }"}, headers={"x-setrum-query-plan": "true"})
    assert "extensions" not in response.json()

    exposed = make_client(query_plan={"expose": True})
    plain = await exposed.post("/graphql", json={"query": "{ hello }"})
    assert "extensions" not in plain.json()
    response = await exposed.post("/graphql", json={"query": "{ hello }"}, headers={"x-setrum-query-plan": "true"})
    plan = response.json()["extensions"]["queryPlan"]
    assert "accounts" in json.dumps(plan)
    assert response.json()["data"] == {"hello": "hello world"}


async def test_introspection_off_in_production(make_client) -> None:
    prod = make_client(env="production")
    response = await prod.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert "data" not in response.json()
    explicit = make_client(env="production", introspection=True)
    ok = await explicit.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert ok.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
