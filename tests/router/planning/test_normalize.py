"""Operation normalisation (router.operation): the passes the planner relies on."""

from __future__ import annotations

import pytest
from graphql import parse

from router.errors import ValidationFailed
from router.operation import Field, InlineFragment, normalize_operation

from ._support import supergraph


def _shape(sels: tuple) -> list:
    out: list = []
    for s in sels:
        if isinstance(s, Field):
            head = (f"{s.alias}:" if s.alias else "") + s.name + s.args_text + s.dirs_text
            out.append([head, _shape(s.selections)] if s.selections else head)
        else:
            assert isinstance(s, InlineFragment)
            out.append([f"... on {s.type_condition}{s.dirs_text}", _shape(s.selections)])
    return out


def _norm(query: str, name: str | None = None, set_name: str = "entities"):
    return normalize_operation(supergraph(set_name).schema, parse(query), name)


def test_fragments_inlined_and_fields_merged() -> None:
    op = _norm(
        "query Q { topProducts { ...A name ... on Product { price } } } "
        "fragment A on Product { id name reviews { body } reviews { rating } }"
    )
    assert op.name == "Q" and op.kind == "query" and op.root_type == "Query"
    assert _shape(op.selections) == [["topProducts", ["id", "name", ["reviews", ["body", "rating"]], "price"]]]


def test_literal_conditions_evaluated_variable_ones_kept() -> None:
    op = _norm(
        "query($v: Boolean!) { topProducts { id @skip(if: true) name @include(if: false) "
        "price @include(if: true) reviews @include(if: $v) { body } } }"
    )
    assert _shape(op.selections) == [["topProducts", ["price", ["reviews @include(if: $v)", ["body"]]]]]


def test_same_key_different_directives_are_not_merged() -> None:
    op = _norm("query($v: Boolean!) { topProducts { name name @include(if: $v) } }")
    assert _shape(op.selections) == [["topProducts", ["name", "name @include(if: $v)"]]]


def test_abstract_fragments_kept_impossible_dropped() -> None:
    op = _norm(
        '{ search(term: "x") { id ... on Book { title } ... on Media { id } } results { ... on Movie { minutes } } }',
        set_name="abstract",
    )
    assert _shape(op.selections) == [
        ['search(term: "x")', ["id", ["... on Book", ["title"]]]],
        ["results", [["... on Movie", ["minutes"]]]],
    ]


def test_operation_selection() -> None:
    doc = "query A { me { id } } mutation B { __typename }"
    with pytest.raises(ValidationFailed):
        normalize_operation(supergraph("entities").schema, parse(doc))
    assert _norm("query A { me { id } } query B { me { name } }", "B").name == "B"
    with pytest.raises(ValidationFailed) as err:
        _norm("{ me { id } }", "Nope")
    assert "Unknown operation" in err.value.message
