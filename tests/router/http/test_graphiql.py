"""GraphiQL: served by the router from vendored assets, and working in a real browser offline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from router.http.graphiql import STATIC_DIR
from tests.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.router.http.server import running_accounts_router

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what browsers send
ASSETS = [
    "graphiql.min.js",
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
    "setrum-graphiql.js",
]


@pytest.mark.parametrize("path", ["/", "/graphql"])
async def test_browser_get_serves_graphiql(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"accept": HTML})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    page = response.text
    for asset in ASSETS:
        if asset.endswith(".js"):
            assert f'<script src="/graphiql/static/{asset}"></script>' in page
    assert 'href="/graphiql/static/graphiql.min.css"' in page
    assert 'data-endpoint="/graphql"' in page
    # Nothing is loaded from another origin.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


async def test_graphql_get_with_a_query_is_still_graphql_for_browsers(client: httpx.AsyncClient) -> None:
    # A bare navigation is a request any page could make: refused by CSRF prevention, as GraphQL JSON.
    navigation = await client.get("/graphql", params={"query": "{ hello }"}, headers={"accept": HTML})
    assert navigation.json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"
    response = await client.get(
        "/graphql", params={"query": "{ hello }"}, headers={"accept": HTML, "apollo-require-preflight": "1"}
    )
    assert response.json() == {"data": {"hello": "hello world"}}


@pytest.mark.parametrize("asset", ASSETS)
async def test_assets_are_served_locally(client: httpx.AsyncClient, asset: str) -> None:
    response = await client.get(f"/graphiql/static/{asset}")
    assert response.status_code == 200
    assert response.content == (STATIC_DIR / asset).read_bytes()
    expected = "text/css" if asset.endswith(".css") else "javascript"
    assert expected in response.headers["content-type"]


async def test_graphiql_is_off_in_production(make_client) -> None:
    client = make_client(env="production")
    index = await client.get("/", headers={"accept": HTML})
    assert index.status_code == 404
    assert index.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await client.get("/graphiql/static/graphiql.min.js")).status_code == 404
    endpoint = await client.get("/graphql", headers={"accept": HTML, "apollo-require-preflight": "1"})
    assert endpoint.status_code == 400
    assert endpoint.json()["errors"][0]["extensions"]["code"] == "MISSING_QUERY"


def test_vendored_assets_are_documented() -> None:
    readme = (STATIC_DIR / "README.md").read_text()
    for needle in ("graphiql", "3.9.0", "react", "18.3.1", "MIT"):
        assert needle in readme
    for licence in ("LICENSE-graphiql.txt", "LICENSE-react.txt", "LICENSE-react-dom.txt"):
        assert (STATIC_DIR / licence).is_file()


@pytest.fixture(scope="module")
def graphiql_url() -> Iterator[str]:
    with running_accounts_router() as url:
        yield url


def _multipart(response, seen: list[str]) -> None:
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        seen.append(content_type)


def _expect_fields(explorer, names: list[str]) -> None:
    fields = explorer.locator(".graphiql-doc-explorer-field-name")
    fields.first.wait_for(timeout=10_000)
    assert sorted(fields.all_inner_texts()) == sorted(names)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_graphiql_in_a_real_browser_offline(graphiql_url: str, tmp_path: Path) -> None:
    playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    outside: list[str] = []
    requests: list[str] = []
    console_errors: list[str] = []
    multipart: list[str] = []

    def only_localhost(route, request) -> None:
        requests.append(request.url)
        if request.url.startswith(graphiql_url + "/") or request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    with playwright_sync.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        try:
            context.route("**/*", only_localhost)
            page = context.new_page()
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(str(e)))
            page.on("response", lambda r: _multipart(r, multipart))
            page.goto(f"{graphiql_url}/", wait_until="load")

            # The query editor renders (CodeMirror inside GraphiQL's editor pane).
            page.wait_for_selector(".graphiql-container .graphiql-query-editor .CodeMirror", timeout=20_000)

            # The docs explorer lists the root types, then the root fields, from introspection.
            page.click("button[aria-label='Show Documentation Explorer']")
            explorer = page.locator(".graphiql-doc-explorer")
            explorer.get_by_text("Query", exact=True).first.click(timeout=20_000)
            _expect_fields(explorer, ["me", "hello", "slow"])
            explorer.locator(".graphiql-doc-explorer-back").click()
            explorer.get_by_text("Mutation", exact=True).first.click(timeout=10_000)
            _expect_fields(explorer, ["rename"])

            # And a query typed into the editor runs through the router.
            page.evaluate(
                "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ me { name } }')"
            )
            page.click(".graphiql-execute-button")
            page.locator(".graphiql-response").get_by_text('"Ada"').wait_for(timeout=10_000)

            # @defer comes back as multipart/mixed, which GraphiQL reads and merges into one result.
            page.evaluate(
                "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
                ".setValue('{ hello ... @defer { me { name } } }')"
            )
            page.click(".graphiql-execute-button")
            page.locator(".graphiql-response").get_by_text('"Ada"').wait_for(timeout=10_000)
            page.locator(".graphiql-response").get_by_text('"hello world"').wait_for(timeout=10_000)
        finally:
            context.close()

    assert outside == []
    assert any(url.endswith("/graphql") for url in requests), "GraphiQL never called the router"
    assert multipart == ['multipart/mixed;boundary="graphql";deferSpec=20220824']
    assert console_errors == []
