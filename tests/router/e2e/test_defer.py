"""``@defer`` over HTTP: the router (real uvicorn) in front of purpose-built subgraph sets (real
uvicorn), answering ``multipart/mixed;deferSpec=20220824`` as Apollo Router does (docs/router.md §10 @defer and incremental delivery).

Expected answers are worked out by hand from ``tests/fixtures/subgraph_apps/sets/entities.py`` and
``entity_paths.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest

from router.app import create_app
from router.gateway import Gateway
from router.settings import RouterSettings
from router.subgraph_client import HttpSubgraphClient
from tests.fixtures.subgraph_apps import SubgraphApp, mount_all, sets, share_journal
from tests.router.http.server import running_router

MULTIPART = "multipart/mixed;deferSpec=20220824, application/json"
CONTENT_TYPE = 'multipart/mixed;boundary="graphql";deferSpec=20220824'


class Served:
    def __init__(self, url: str, apps: dict[str, SubgraphApp], journal: list[tuple[str, dict[str, Any]]]) -> None:
        self.url = url
        self.apps = apps
        self.journal = journal

    def queries(self, name: str) -> list[str]:
        return [body["query"] for sub, body in self.journal if sub == name]


@pytest.fixture
def serve(http_server: Any) -> Callable[[str], Any]:
    """``with serve("entities") as s``: fresh apps of that set behind real HTTP, and the router app
    (default settings) over them under uvicorn; ``s.url`` is the router's base URL."""
    switch, base = http_server

    @contextmanager
    def start(set_name: str, **settings: Any) -> Iterator[Served]:
        apps = sets.create_apps(set_name)
        journal = share_journal(apps)
        switch.target = mount_all(apps)
        sdl = sets.supergraph_sdl(set_name, base)

        def make_app() -> tuple[Any, Callable[[], Any]]:
            gateway = Gateway(sdl)
            return create_app(RouterSettings(**settings), gateway=gateway), gateway.aclose

        with running_router(make_app) as url:
            yield Served(url, apps, journal)

    return start


def parse_multipart(body: bytes) -> list[dict[str, Any]]:
    """The JSON payloads of a ``boundary="graphql"`` multipart body (strict about the framing)."""
    assert body.startswith(b"\r\n--graphql\r\n"), body[:40]
    assert body.endswith(b"\r\n--graphql--\r\n"), body[-40:]
    inner = body[len(b"\r\n--graphql") : -len(b"\r\n--graphql--\r\n")]
    payloads = []
    for part in inner.split(b"\r\n--graphql"):
        head, sep, json_text = part.partition(b"\r\n\r\n")
        assert sep and head == b"\r\ncontent-type: application/json", part[:60]
        payloads.append(orjson.loads(json_text))
    return payloads


async def post(
    url: str, query: str, variables: dict[str, Any] | None = None, *, accept: str = MULTIPART
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            f"{url}/graphql", json={"query": query, "variables": variables or {}}, headers={"accept": accept}
        )


LAMP_REVIEWS = [{"body": "Bright", "author": {"name": "Ada"}}, {"body": "Flickers", "author": {"name": "Bob"}}]
DESK_REVIEWS = [{"body": "Solid", "author": {"name": "Ada"}}, {"body": "Heavy", "author": {"name": "Ada"}}]
REVIEWS_QUERY = '{ topProducts(first: 2) { id name ... @defer(label: "rev") { reviews { body author { name } } } } }'


async def test_deferred_entity_fields_arrive_in_a_later_part(serve: Any) -> None:
    with serve("entities") as s:
        response = await post(s.url, REVIEWS_QUERY)
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    assert parse_multipart(response.content) == [
        {"data": {"topProducts": [{"id": "p1", "name": "Lamp"}, {"id": "p2", "name": "Desk"}]}, "hasNext": True},
        {
            "hasNext": False,
            "incremental": [
                {"data": {"reviews": LAMP_REVIEWS}, "path": ["topProducts", 0], "label": "rev"},
                {"data": {"reviews": DESK_REVIEWS}, "path": ["topProducts", 1], "label": "rev"},
            ],
        },
    ]
    # The primary fetch asks only for the primary fields (and the key the deferred part needs).
    assert s.queries("products") == ["query { topProducts(first: 2) { __typename id name } }"]
    assert [name for name, _ in s.journal] == ["products", "reviews", "users"]


async def test_first_part_arrives_before_the_slow_deferred_subgraph_answers(serve: Any) -> None:
    with serve("entities") as s:
        s.apps["reviews"].delay_s = 1.0
        async with httpx.AsyncClient(timeout=20) as client:
            started = time.monotonic()
            request = client.build_request(
                "POST", f"{s.url}/graphql", json={"query": REVIEWS_QUERY}, headers={"accept": MULTIPART}
            )
            response = await client.send(request, stream=True)
            received = b""
            first_at: float | None = None
            reviews_answered_before_first: int | None = None
            async for chunk in response.aiter_bytes():
                received += chunk
                if first_at is None and received.count(b"\r\n--graphql") >= 2:
                    first_at = time.monotonic() - started
                    reviews_answered_before_first = len(s.apps["reviews"].requests)
            total = time.monotonic() - started
            await response.aclose()
    assert first_at is not None and reviews_answered_before_first == 0
    assert first_at < 0.9 <= 1.0 <= total
    first, last = parse_multipart(received)
    assert first["hasNext"] is True and "reviews" not in first["data"]["topProducts"][0]
    assert last["incremental"][0]["data"] == {"reviews": LAMP_REVIEWS}
    assert len(s.apps["reviews"].requests) == 1


async def test_a_client_without_multipart_gets_the_whole_result_as_json(serve: Any) -> None:
    with serve("entities") as s:
        plain = await post(s.url, REVIEWS_QUERY, accept="application/json")
        default = await post(s.url, REVIEWS_QUERY, accept="*/*")
    full = {
        "data": {
            "topProducts": [
                {"id": "p1", "name": "Lamp", "reviews": LAMP_REVIEWS},
                {"id": "p2", "name": "Desk", "reviews": DESK_REVIEWS},
            ]
        }
    }
    for response in (plain, default):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == full
    # Not deferred: the reviews come in the same plan as without @defer (one fetch per subgraph each time).
    assert [name for name, _ in s.journal] == ["products", "reviews", "users"] * 2


async def test_defer_if_false_is_answered_in_one_json_response(serve: Any) -> None:
    query = "query($d: Boolean!) { topProducts(first: 1) { id ... @defer(if: $d) { name } } }"
    with serve("entities") as s:
        off = await post(s.url, query, {"d": False})
        on = await post(s.url, query, {"d": True})
    assert off.headers["content-type"].startswith("application/json")
    assert off.json() == {"data": {"topProducts": [{"id": "p1", "name": "Lamp"}]}}
    assert on.headers["content-type"] == CONTENT_TYPE
    assert parse_multipart(on.content) == [
        {"data": {"topProducts": [{"id": "p1"}]}, "hasNext": True},
        {"hasNext": False, "incremental": [{"data": {"name": "Lamp"}, "path": ["topProducts", 0]}]},
    ]
    # The deferred fragment re-enters products through the Product key (an _entities call to the same graph).
    assert s.queries("products")[-1].startswith("query($representations: [_Any!]!) { _entities")


async def test_nested_defers_come_in_order_with_their_own_paths(serve: Any) -> None:
    query = """{ topProducts(first: 1) { id ... @defer(label: "outer") { reviews { body ...Author @defer(label: "inner") } } } }
    fragment Author on Review { author { name } }"""
    with serve("entities") as s:
        response = await post(s.url, query)
    assert parse_multipart(response.content) == [
        {"data": {"topProducts": [{"id": "p1"}]}, "hasNext": True},
        {
            "hasNext": True,
            "incremental": [
                {
                    "data": {"reviews": [{"body": "Bright"}, {"body": "Flickers"}]},
                    "path": ["topProducts", 0],
                    "label": "outer",
                }
            ],
        },
        {
            "hasNext": False,
            "incremental": [
                {"data": {"author": {"name": "Ada"}}, "path": ["topProducts", 0, "reviews", 0], "label": "inner"},
                {"data": {"author": {"name": "Bob"}}, "path": ["topProducts", 0, "reviews", 1], "label": "inner"},
            ],
        },
    ]
    assert [name for name, _ in s.journal] == ["products", "reviews", "reviews", "users"]


async def test_root_fields_in_a_deferred_fragment_get_their_own_root_fetch(serve: Any) -> None:
    with serve("entities") as s:
        response = await post(s.url, '{ me { name } ... @defer(label: "top") { topProducts(first: 1) { name } } }')
    assert parse_multipart(response.content) == [
        {"data": {"me": {"name": "Bob"}}, "hasNext": True},
        {"hasNext": False, "incremental": [{"data": {"topProducts": [{"name": "Lamp"}]}, "path": [], "label": "top"}]},
    ]
    assert s.queries("users") == ["query { me { name } }"]
    assert s.queries("products") == ["query { topProducts(first: 1) { name } }"]


async def test_errors_of_a_deferred_part_stay_in_its_payload_at_their_paths(serve: Any) -> None:
    query = '{ topProducts { name ... @defer(label: "inv") { stock note } } }'
    with serve("entity_paths") as s:
        response = await post(s.url, query)
    primary, deferred = parse_multipart(response.content)
    assert primary == {"data": {"topProducts": [{"name": "Kettle"}, {"name": "Lamp"}]}, "hasNext": True}
    assert deferred == {
        "hasNext": False,
        "incremental": [
            {"data": {"stock": 3, "note": "note p1"}, "path": ["topProducts", 0], "label": "inv"},
            {
                "data": {"stock": 0, "note": None},
                "path": ["topProducts", 1],
                "label": "inv",
                "errors": [
                    {
                        "message": "note withheld for p2",
                        "path": ["topProducts", 1, "note"],
                        "extensions": {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "inventory"},
                    }
                ],
            },
        ],
    }


async def test_a_failing_non_null_field_nulls_only_its_deferred_fragment(serve: Any) -> None:
    with serve("entity_paths") as s:
        response = await post(s.url, "{ topProducts { name ... @defer { stock audit } } }")
    primary, deferred = parse_multipart(response.content)
    assert primary["data"] == {"topProducts": [{"name": "Kettle"}, {"name": "Lamp"}]}  # untouched
    first, second = deferred["incremental"]
    assert first["data"] is None and first["path"] == ["topProducts", 0]
    assert {"message": "audit unavailable for p1", "path": ["topProducts", 0, "audit"]}.items() <= first["errors"][
        -1
    ].items()
    assert second == {"data": {"stock": 0, "audit": "audited p2"}, "path": ["topProducts", 1]}


async def test_a_value_type_fragment_is_fetched_with_its_parent_and_delivered_later(serve: Any) -> None:
    with serve("entity_paths") as s:
        response = await post(s.url, '{ shelf { ... @defer(label: "s") { label } } }')
    assert parse_multipart(response.content) == [
        {"data": {"shelf": {}}, "hasNext": True},
        {"hasNext": False, "incremental": [{"data": {"label": "new"}, "path": ["shelf"], "label": "s"}]},
    ]
    # Shelf has no key: nothing to re-enter through, so one fetch answers both parts.
    assert s.queries("catalog") == ["query { shelf { __typename label } }"]


async def test_a_fragment_under_a_null_parent_is_never_delivered(serve: Any) -> None:
    with serve("entities") as s:
        response = await post(s.url, '{ product(id: "nope") { id ... @defer { name } } }')
    assert parse_multipart(response.content) == [{"data": {"product": None}, "hasNext": True}, {"hasNext": False}]
    assert [name for name, _ in s.journal] == ["products"]


async def test_introspection_shows_the_defer_directive(serve: Any) -> None:
    query = (
        "{ __schema { directives { name locations args { name type { kind name ofType { name } } defaultValue } } } }"
    )
    with serve("entities") as s:
        response = await post(s.url, query, accept="application/json")
    directives = {d["name"]: d for d in response.json()["data"]["__schema"]["directives"]}
    defer = directives["defer"]
    assert sorted(defer["locations"]) == ["FRAGMENT_SPREAD", "INLINE_FRAGMENT"]
    args = {a["name"]: a for a in defer["args"]}
    assert args["if"]["type"] == {"kind": "NON_NULL", "name": None, "ofType": {"name": "Boolean"}}
    assert args["if"]["defaultValue"] == "true"
    assert args["label"]["type"]["name"] == "String"


async def test_payloads_stream_as_each_sibling_completes(serve: Any) -> None:
    """Two sibling fragments: the fast one's payload comes first even though it is second in the query."""
    query = '{ topProducts(first: 1) { id ... @defer(label: "slow") { reviews { body } } ... @defer(label: "fast") { name } } }'
    with serve("entities") as s:
        s.apps["reviews"].delay_s = 0.5
        response = await post(s.url, query)
    primary, fast, slow = parse_multipart(response.content)
    assert primary == {"data": {"topProducts": [{"id": "p1"}]}, "hasNext": True}
    assert fast == {
        "hasNext": True,
        "incremental": [{"data": {"name": "Lamp"}, "path": ["topProducts", 0], "label": "fast"}],
    }
    assert slow["hasNext"] is False and slow["incremental"][0]["label"] == "slow"


async def test_a_batch_is_answered_whole_even_with_multipart_accept(http_server: Any) -> None:
    switch, base = http_server
    apps = sets.create_apps("entities")
    switch.target = mount_all(apps)
    sdl = sets.supergraph_sdl("entities", base)

    def make_app() -> tuple[Any, Callable[[], Any]]:
        gateway = Gateway(sdl)
        settings = RouterSettings(batching={"enabled": True})
        return create_app(settings, gateway=gateway), gateway.aclose

    with running_router(make_app) as url:
        async with httpx.AsyncClient(timeout=20) as client:
            response = await client.post(
                f"{url}/graphql",
                json=[{"query": "{ topProducts(first: 1) { id ... @defer { name } } }"}],
                headers={"accept": MULTIPART},
            )
    assert response.json() == [{"data": {"topProducts": [{"id": "p1", "name": "Lamp"}]}}]


def test_accept_header_negotiation() -> None:
    from router.http.multipart import accepts_multipart_defer

    assert accepts_multipart_defer("multipart/mixed;deferSpec=20220824, application/json")
    assert accepts_multipart_defer('multipart/mixed; deferSpec="20220824"')
    assert accepts_multipart_defer("application/json, multipart/mixed;boundary=graphql;deferSpec=20220824;q=0.5")
    assert not accepts_multipart_defer("multipart/mixed;deferSpec=20220824;q=0")
    assert not accepts_multipart_defer("multipart/mixed;subscriptionSpec=1.0")
    assert not accepts_multipart_defer("application/json")
    assert not accepts_multipart_defer(None)


async def test_the_request_deadline_covers_the_deferred_parts(serve: Any) -> None:
    with serve("entities") as s:
        s.apps["reviews"].delay_s = 2.0
        async with httpx.AsyncClient(timeout=20) as client:
            started = time.monotonic()
            response = await client.post(
                f"{s.url}/graphql",
                json={"query": REVIEWS_QUERY},
                headers={"accept": MULTIPART, "x-setrum-deadline-ms": "700"},
            )
            elapsed = time.monotonic() - started
    primary, deferred = parse_multipart(response.content)
    assert primary["data"]["topProducts"][0] == {"id": "p1", "name": "Lamp"}
    assert elapsed < 1.9  # the slow subgraph was not waited for
    item = deferred["incremental"][0]
    assert item["data"] is None and item["path"] == ["topProducts", 0]
    assert item["errors"][0]["extensions"]["code"] == "SUBGRAPH_FETCH_FAILED"


async def test_the_exposed_query_plan_shows_the_deferred_parts(serve: Any) -> None:
    with serve("entities", query_plan={"expose": True}) as s:
        async with httpx.AsyncClient(timeout=20) as client:
            response = await client.post(
                f"{s.url}/graphql",
                json={"query": REVIEWS_QUERY},
                headers={"accept": MULTIPART, "x-setrum-query-plan": "true"},
            )
    primary = parse_multipart(response.content)[0]
    plan = primary["extensions"]["queryPlan"]["node"]
    assert plan["kind"] == "Defer"
    assert plan["primary"]["node"]["serviceName"] == "products"
    (part,) = plan["deferred"]
    assert part["label"] == "rev" and part["queryPaths"] == [["topProducts"]] and part["depends"] == []
    services = {n["node"]["serviceName"] for n in part["node"]["nodes"]}
    assert services == {"reviews", "users"}


async def test_defer_below_a_mutation_field_runs_after_the_mutation(serve: Any) -> None:
    query = 'mutation { createUser(name: "Cy") { id ... @defer(label: "u") { name posts { title } } } }'
    with serve("mutations") as s:
        response = await post(s.url, query)
        refused = await post(s.url, 'mutation { ... @defer { createUser(name: "Di") { id } } }')
    primary, deferred = parse_multipart(response.content)
    assert primary == {"data": {"createUser": {"id": "u2"}}, "hasNext": True}
    assert deferred == {
        "hasNext": False,
        "incremental": [{"data": {"name": "Cy", "posts": []}, "path": ["createUser"], "label": "u"}],
    }
    assert [name for name, _ in s.journal] == ["users", "users", "posts"]  # the mutation ran once
    assert s.queries("users")[0] == 'mutation { createUser(name: "Cy") { __typename id } }'
    # On the mutation's root, @defer is refused (root mutation fields run once, in order).
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" and "root mutation" in error["message"]


async def test_a_field_the_caller_may_not_see_is_refused_inside_the_deferred_payload(serve: Any) -> None:
    with serve("authorization") as s:
        response = await post(s.url, '{ users { id ... @defer(label: "d") { name email } } }')
    primary, deferred = parse_multipart(response.content)
    assert primary == {"data": {"users": [{"id": "u1"}, {"id": "u2"}]}, "hasNext": True}
    first = deferred["incremental"][0]
    assert first["data"] == {"name": "Ada", "email": None}
    assert first["errors"] == [
        {
            "message": "Unauthorized field or type",
            "path": ["users", 0, "email"],
            "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
        }
    ]
    assert all("email" not in q for _, body in s.journal for q in [body["query"]])  # never fetched


async def test_a_deferred_part_that_breaks_answers_with_an_error_not_a_cut_response(http_server: Any) -> None:
    switch, base = http_server
    switch.target = mount_all(sets.create_apps("entities"))
    sdl = sets.supergraph_sdl("entities", base)
    inner = HttpSubgraphClient({name: f"{base}/{name}/graphql" for name in ("products", "reviews", "users")})

    class Breaking:
        """The network client, except that asking reviews raises (a bug, not a subgraph failure)."""

        async def fetch(self, service: str, body: dict[str, Any], headers: Any = None) -> Any:
            if service == "reviews":
                raise RuntimeError("boom")
            return await inner.fetch(service, body, headers)

        async def aclose(self) -> None:
            await inner.aclose()

    gateway = Gateway(sdl, client=Breaking())
    try:
        result = await gateway.execute(REVIEWS_QUERY, incremental=True)
        assert result.subsequent is not None
        payloads = [p async for p in result.subsequent]
    finally:
        await gateway.aclose()
    assert result.body["data"]["topProducts"][0] == {"id": "p1", "name": "Lamp"}
    (last,) = payloads
    assert last["hasNext"] is False
    item = last["incremental"][0]
    assert item["data"] is None and item["path"] == ["topProducts", 0]
    assert [e["extensions"]["code"] for e in item["errors"]] == ["INTERNAL_SERVER_ERROR"]
    assert "boom" not in orjson.dumps(payloads).decode()  # details go to the log only


async def test_fragments_on_interface_members_are_deferred_per_runtime_type(serve: Any) -> None:
    query = """{ search(term: "Dune") { id ... on Book @defer(label: "book") { title pages }
                 ... on Movie { minutes } } }"""
    with serve("abstract") as s:
        response = await post(s.url, query)
    assert parse_multipart(response.content) == [
        {"data": {"search": [{"id": "b1"}, {"id": "m1", "minutes": 155}]}, "hasNext": True},
        {
            "hasNext": False,
            "incremental": [{"data": {"title": "Dune", "pages": 412}, "path": ["search", 0], "label": "book"}],
        },
    ]
    # The movie's fields come with the primary part; only the book's fragment waits for books.
    assert [name for name, _ in s.journal] == ["search", "movies", "books"]


async def test_one_deferred_fragment_spread_in_two_places_is_delivered_at_both(serve: Any) -> None:
    query = """{ topProducts(first: 1) { id ...P } product(id: "p2") { id ...P } }
               fragment P on Product { ... @defer(label: "n") { name } }"""
    with serve("entities") as s:
        response = await post(s.url, query)
    assert parse_multipart(response.content) == [
        {"data": {"topProducts": [{"id": "p1"}], "product": {"id": "p2"}}, "hasNext": True},
        {
            "hasNext": False,
            "incremental": [
                {"data": {"name": "Lamp"}, "path": ["topProducts", 0], "label": "n"},
                {"data": {"name": "Desk"}, "path": ["product"], "label": "n"},
            ],
        },
    ]
    # Both places ask the same fields of the same type: one _entities call serves them.
    assert len(s.queries("products")) == 2
