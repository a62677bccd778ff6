"""Automatic persisted queries (Apollo's protocol) and trusted documents through the router."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from router.settings import PersistedQueriesSettings
from tests.router.http.conftest import ClientFactory

HELLO = "query Hello { hello }"
NAMED = "query Named($n: String) { hello(name: $n) }"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _apq(digest: str, query: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, **extra}
    if query is not None:
        body["query"] = query
    return body


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_apq_round_trip(client: httpx.AsyncClient) -> None:
    digest = _sha(NAMED)
    miss = await client.post("/graphql", json=_apq(digest, variables={"n": "Sari"}))
    assert miss.status_code == 200  # Apollo's clients read the code and retry with the query
    assert miss.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    registered = await client.post("/graphql", json=_apq(digest, NAMED, variables={"n": "Sari"}))
    assert registered.json() == {"data": {"hello": "hello Sari"}}
    hit = await client.post("/graphql", json=_apq(digest, variables={"n": "Budi"}))
    assert hit.json() == {"data": {"hello": "hello Budi"}}
    # Over GET (cacheable by CDNs), with the CSRF header a browser client sends.
    params = {
        "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}}),
        "variables": '{"n": "Tono"}',
    }
    got = await client.get("/graphql", params=params, headers={"apollo-require-preflight": "true"})
    assert got.json() == {"data": {"hello": "hello Tono"}}


async def test_hash_mismatch_is_refused_and_not_registered(client: httpx.AsyncClient) -> None:
    forged = _sha(HELLO)
    refused = await client.post("/graphql", json=_apq(forged, "{ me { id } }"))
    assert refused.status_code == 400 and _code(refused) == "PERSISTED_QUERY_HASH_MISMATCH"
    still_missing = await client.post("/graphql", json=_apq(forged))
    assert _code(still_missing) == "PERSISTED_QUERY_NOT_FOUND"


async def test_apq_can_be_turned_off(make_client: ClientFactory) -> None:
    client = make_client(persisted_queries={"apq": False})
    response = await client.post("/graphql", json=_apq(_sha(HELLO)))
    assert response.status_code == 400 and _code(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
    # A hash sent along with the query is still checked and the query runs, unregistered.
    assert (await client.post("/graphql", json=_apq(_sha(HELLO), HELLO))).json() == {"data": {"hello": "hello world"}}
    assert _code(await client.post("/graphql", json=_apq(_sha(HELLO)))) == "PERSISTED_QUERY_NOT_SUPPORTED"


def _codegen_manifest(tmp_path: Path) -> Path:
    """The web build's format: {"sha256:<hex>": document}."""
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({f"sha256:{_sha(HELLO)}": HELLO}))
    return path


def _apollo_manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-query-manifest.json"
    operations = [{"id": "hello-v1", "name": "Hello", "type": "query", "body": HELLO}]
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}))
    return path


@pytest.mark.parametrize(
    ("manifest", "identifier"), [(_codegen_manifest, f"sha256:{_sha(HELLO)}"), (_apollo_manifest, "hello-v1")]
)
async def test_enforced_safelist_runs_only_trusted_documents(
    make_client: ClientFactory, tmp_path: Path, manifest: Any, identifier: str
) -> None:
    client = make_client(persisted_queries={"manifest": manifest(tmp_path), "safelist": "enforce"})
    by_id = await client.post("/graphql", json=_apq(identifier))
    assert by_id.json() == {"data": {"hello": "hello world"}}
    # The same document as free text, formatted differently and with __typename a client cache adds.
    reformatted = "# from the app\nquery Hello {\n  hello\n  __typename\n}"
    assert (await client.post("/graphql", json={"query": reformatted})).json()["data"]["hello"] == "hello world"
    other = await client.post("/graphql", json={"query": "{ me { id } }"})
    assert other.status_code == 400 and _code(other) == "QUERY_NOT_IN_SAFELIST"
    unknown = await client.post("/graphql", json=_apq(_sha("{ me { id } }")))
    assert unknown.status_code == 400 and _code(unknown) == "PERSISTED_QUERY_NOT_IN_LIST"
    # APQ cannot be used to smuggle a document past the list.
    smuggled = await client.post("/graphql", json=_apq(_sha("{ me { id } }"), "{ me { id } }"))
    assert _code(smuggled) == "QUERY_NOT_IN_SAFELIST"
    assert _code(await client.post("/graphql", json=_apq(_sha("{ me { id } }")))) == "PERSISTED_QUERY_NOT_IN_LIST"


async def test_log_mode_runs_everything_and_names_the_strangers(
    make_client: ClientFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(persisted_queries={"manifest": _codegen_manifest(tmp_path), "safelist": "log"})
    with caplog.at_level(logging.WARNING, logger="router.persisted"):
        trusted = await client.post("/graphql", json={"query": HELLO})
        assert not caplog.records
        stranger = await client.post("/graphql", json={"query": "query Stranger { me { id } }"})
    assert trusted.json()["data"] and stranger.json()["data"] == {"me": {"id": "1"}}
    assert "not in the trusted documents" in caplog.text and "Stranger" in caplog.text


def test_settings_refuse_a_safelist_without_a_manifest() -> None:
    with pytest.raises(ValidationError, match="needs a manifest"):
        PersistedQueriesSettings(safelist="enforce")


def test_the_web_apps_manifest_loads() -> None:
    from router.layers.persisted import load_manifest
    from setrum import webapp

    manifest = load_manifest(webapp.WEB_DIR / "src" / "gql" / "persisted-documents.json")
    assert manifest and all(_sha(document) == key for key, document in manifest.items())
