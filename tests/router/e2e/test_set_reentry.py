"""``reentry`` set over real HTTP: root fields that return ``Query`` (issue 14, "also supported
now"). Fields of Query below the root are fetched from their graph's root and merged at that
path; entity fields under them jump as usual; errors keep the full client path."""

from __future__ import annotations


async def test_query_fields_of_another_graph_under_a_field_returning_query(run_set):
    run = await run_set("reentry")
    body = await run.query("{ root { me { name score } stats { users } } }")
    assert body == {"data": {"root": {"me": {"name": "Ada", "score": 42}, "stats": {"users": 1}}}}
    assert sorted(run.calls()) == ["accounts", "stats", "stats"]
    root_queries = [b["query"] for b in run.apps["stats"].requests if "representations" not in b["variables"]]
    assert len(root_queries) == 1 and "stats" in root_queries[0] and "_entities" not in root_queries[0]


async def test_nested_reentry_with_variables(run_set):
    run = await run_set("reentry")
    body = await run.query("query($l: String) { root { root { motd(lang: $l) } } }", {"l": "id"})
    assert body == {"data": {"root": {"root": {"motd": "halo"}}}}
    assert run.calls() == ["accounts", "stats"]


async def test_mutation_result_carrying_query(run_set):
    run = await run_set("reentry")
    body = await run.query(
        'mutation { rename(name: "Bea") { user { name } query { me { name score } stats { users } } } }'
    )
    assert body == {
        "data": {
            "rename": {"user": {"name": "Bea"}, "query": {"me": {"name": "Bea", "score": 42}, "stats": {"users": 1}}}
        }
    }
    assert run.calls()[0] == "accounts" and sorted(run.calls()[1:]) == ["stats", "stats"]


async def test_error_below_reentry_keeps_the_client_path(run_set):
    run = await run_set("reentry")
    body = await run.query("{ root { stats { users online } motd } }")
    # online: Int! fails -> stats (non-null) -> root (non-null) -> data null
    assert body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["root", "stats", "online"]]
    assert body["errors"][0]["message"] == "online count unavailable"


def _our_composition(apollo_sdl: str) -> str:
    """The same set composed by our own composer (which must accept re-entry), pointed at the
    URLs the test server uses (taken from the Apollo-composed supergraph it replaces)."""
    import re

    from router.composition import compose
    from router.composition.subgraph_model import SubgraphSource
    from tests.fixtures.subgraph_apps.sets import load_sdl

    urls = dict(re.findall(r'name: "(\w+)", url: "([^"]+)"', apollo_sdl))
    result = compose([SubgraphSource(n, urls[n], load_sdl("reentry", n)) for n in ("accounts", "stats")])
    assert result.ok and result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


async def test_our_composer_accepts_reentry_and_the_router_serves_it(run_set):
    run = await run_set("reentry", edit=_our_composition)
    body = await run.query("{ root { me { name score } stats { users } } }")
    assert body == {"data": {"root": {"me": {"name": "Ada", "score": 42}, "stats": {"users": 1}}}}
    assert sorted(run.calls()) == ["accounts", "stats", "stats"]
