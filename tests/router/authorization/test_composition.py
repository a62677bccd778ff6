"""Authorization directives through composition and the supergraph loader (docs/router.md §8.1).

The AND-merge across subgraphs and the requirements an interface inherits from its implementations are
checked against an independent composer in tests/router/composition/cases/authorization; these tests
cover what that comparison cannot: refusals, renamed links and the API schema."""

from __future__ import annotations

from graphql import print_schema

from router.composition import SubgraphSource, compose
from router.supergraph import load_supergraph
from router.supergraph.access import Access
from tests.fixtures.subgraph_apps.sets import SETS_DIR

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", '
    'import: ["@key", "@shareable", "@authenticated", "@requiresScopes", "@policy"])\n'
)


def _compose(**sdls: str) -> tuple[str | None, list[str]]:
    result = compose([SubgraphSource(name, f"http://{name}/graphql", LINK + sdl) for name, sdl in sdls.items()])
    return result.supergraph_sdl, [e.code for e in result.errors]


def test_requirements_combine_with_and_across_subgraphs() -> None:
    sdl, errors = _compose(
        a='type Query { t: T } type T @key(fields: "id") @requiresScopes(scopes: [["x"], ["y"]]) '
        '{ id: ID! n: Int @shareable @policy(policies: [["p"]]) }',
        b='type T @key(fields: "id") @requiresScopes(scopes: [["z"]]) { id: ID! n: Int @shareable @authenticated }',
    )
    assert errors == [] and sdl is not None
    rules = load_supergraph(sdl).access
    assert rules.types["T"] == Access.of(scopes=[["x", "z"], ["y", "z"]])
    assert rules.fields[("T", "n")] == Access.of(authenticated=True, policies=[["p"]])


def test_directives_on_interfaces_are_refused() -> None:
    _, errors = _compose(a="type Query { i: I } interface I @authenticated { id: ID! }")
    assert errors == ["AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE"]
    _, errors = _compose(a='type Query { i: I } interface I { id: ID! @policy(policies: [["p"]]) }')
    assert errors == ["AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE"]


def test_api_schema_shows_no_authorization_directive_or_type() -> None:
    supergraph = load_supergraph((SETS_DIR / "authorization" / "supergraph.graphql").read_text())
    api = print_schema(supergraph.api_schema)
    for word in ("authenticated", "requiresScopes", "policy", "__Scope", "__Policy"):
        assert word not in api
    assert "email: String" in api and "scalar Iban" in api


def test_renamed_links_are_read_through_the_feature_table() -> None:
    text = (SETS_DIR / "authorization" / "supergraph.graphql").read_text()
    renamed = (
        text.replace('requiresScopes/v0.1", for: SECURITY', 'requiresScopes/v0.1", as: "scopes", for: SECURITY')
        .replace("@requiresScopes", "@scopes")
        .replace("requiresScopes__Scope", "scopes__Scope")
    )
    rules = load_supergraph(renamed).access
    assert rules.fields[("User", "email")] == Access.of(scopes=[["read:email"], ["admin"]])
