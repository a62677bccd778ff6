"""The router serves a built browser app at /app/ (ROUTER_WEB_APP_DIR), same origin as /graphql."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from router.app import create_app
from router.http.webapp import CONTENT_SECURITY_POLICY
from router.settings import RouterSettings

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "persisted-documents.json").write_text("{}")
    return tmp_path


async def test_index_is_served_with_a_strict_csp_and_revalidated(make_client, app_dir: Path) -> None:
    client: httpx.AsyncClient = make_client(web_app_dir=app_dir)
    response = await client.get("/app/")
    assert response.status_code == 200
    assert response.text == "<!doctype html><title>app</title>"
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "connect-src 'self'" in CONTENT_SECURITY_POLICY and "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_hashed_assets_are_cached_for_good(make_client, app_dir: Path) -> None:
    client: httpx.AsyncClient = make_client(web_app_dir=app_dir)
    response = await client.get("/app/assets/index-abc123.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "immutable" in response.headers["cache-control"]
    manifest = await client.get("/app/persisted-documents.json")
    assert manifest.json() == {} and manifest.headers["cache-control"] == "no-cache"


async def test_browsers_are_sent_to_the_app_and_graphql_still_answers(make_client, app_dir: Path) -> None:
    client: httpx.AsyncClient = make_client(web_app_dir=app_dir)
    root = await client.get("/", headers={"accept": HTML})
    assert root.status_code == 307 and root.headers["location"] == "/app/"
    bare = await client.get("/app")
    assert bare.status_code == 308 and bare.headers["location"] == "/app/"
    not_html = await client.get("/", headers={"accept": "application/json"})
    assert not_html.status_code == 404 and not_html.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    graphql = await client.post("/graphql", json={"query": "{ hello }"})
    assert graphql.json() == {"data": {"hello": "hello world"}}
    # GraphiQL is still where the README says.
    assert "graphiql" in (await client.get("/graphql", headers={"accept": HTML})).text.lower()


async def test_unknown_files_are_a_graphql_shaped_404(make_client, app_dir: Path) -> None:
    client: httpx.AsyncClient = make_client(web_app_dir=app_dir)
    response = await client.get("/app/nope.js")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    escape = await client.get("/app/../../etc/passwd")
    assert escape.status_code == 404


async def test_without_the_setting_there_is_no_app(client: httpx.AsyncClient) -> None:
    assert (await client.get("/app/")).status_code == 404


def test_a_directory_without_a_build_is_refused_at_start(tmp_path: Path) -> None:
    gateway: Any = object()  # never used: the app directory is refused first
    with pytest.raises(ValueError, match=r"no index\.html"):
        create_app(RouterSettings(web_app_dir=tmp_path), gateway=gateway)
