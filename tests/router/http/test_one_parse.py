"""The router parses a client's document once (issue 10: parse once, limits as validation rules on that one
document): not again for the limits, the plan or the projection, and not at all when the same text comes back."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import Source
from graphql.language.parser import Parser

QUERY = "query Friends { me { name friends { name } } a: hello b: hello }"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text graphql-core's parser is given in this process (the router's and the in-process subgraph's)."""
    texts: list[str] = []
    original = Parser.__init__

    def counting(self: Parser, source: str | Source, *args: Any, **kwargs: Any) -> None:
        texts.append(source.body if isinstance(source, Source) else source)
        original(self, source, *args, **kwargs)

    monkeypatch.setattr(Parser, "__init__", counting)
    return texts


async def test_the_client_document_is_parsed_once_with_every_limit_on(make_client, parsed: list[str]) -> None:
    client = make_client(limits={"max_depth": 5, "max_aliases": 5, "max_root_fields": 5, "max_fields": 50})
    for _ in range(3):
        response = await client.post("/graphql", json={"query": QUERY})
        assert response.json() == {
            "data": {"me": {"name": "Ada", "friends": [{"name": "Grace"}]}, "a": "hello world", "b": "hello world"}
        }
    assert parsed.count(QUERY) == 1


async def test_a_refused_document_is_parsed_once_too(make_client, parsed: list[str]) -> None:
    client = make_client(limits={"max_aliases": 1})
    for _ in range(2):
        response = await client.post("/graphql", json={"query": QUERY})
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["MAX_ALIASES_EXCEEDED"]
    assert parsed.count(QUERY) == 1
