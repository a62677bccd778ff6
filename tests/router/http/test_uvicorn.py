"""The same router through a real uvicorn server and real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.router.http.server import running_accounts_router


@pytest.fixture(scope="module")
def router_url() -> Iterator[str]:
    with running_accounts_router() as url:
        yield url


def test_query_over_real_http(router_url: str) -> None:
    response = httpx.post(
        f"{router_url}/graphql",
        json={"query": "{ me { name } }"},
        headers={"accept": "application/graphql-response+json", "authorization": "Bearer x"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert response.json() == {"data": {"me": {"name": "Ada"}}}
    assert response.headers["x-request-id"]


def test_status_codes_over_real_http(router_url: str) -> None:
    get_mutation = httpx.get(
        f"{router_url}/graphql",
        params={"query": 'mutation { rename(name: "a") }'},
        headers={"apollo-require-preflight": "true"},
    )
    assert (get_mutation.status_code, get_mutation.headers["allow"]) == (405, "POST")
    bad_json = httpx.post(f"{router_url}/graphql", content=b"{", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400
    assert bad_json.json()["errors"][0]["extensions"]["code"] == "INVALID_JSON"
    assert httpx.get(f"{router_url}/health").json() == {"status": "UP"}
