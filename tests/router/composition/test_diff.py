"""Breaking-change detection between two API schemas, one test per change kind."""

from __future__ import annotations

import pytest
from graphql import build_schema

from router.composition.diff import diff_schemas

OLD = """
type Query { user(id: ID!, verbose: Boolean): User  users(first: Int = 10): [User!]!  search(f: Filter): [Result] }
type User implements Node { id: ID!  name: String  email: String!  role: Role }
interface Node { id: ID! }
type Bot implements Node { id: ID! }
union Result = User | Bot
enum Role { ADMIN CUSTOMER }
input Filter { text: String  limit: Int! }
"""


def changes(new_sdl: str) -> dict[str, bool]:
    return {c.kind + " " + c.path: c.breaking for c in diff_schemas(build_schema(OLD), build_schema(new_sdl))}


def edit(old: str, new: str) -> str:
    assert old in OLD
    return OLD.replace(old, new)


@pytest.mark.parametrize(
    ("new_sdl", "change", "breaking"),
    [
        (edit("  name: String", ""), "FIELD_REMOVED User.name", True),
        (edit("  name: String", "  fullName: String"), "FIELD_REMOVED User.name", True),
        (edit("  name: String", "  name: Int"), "FIELD_TYPE_CHANGED User.name", True),
        (edit("email: String!", "email: String"), "FIELD_TYPE_CHANGED User.email", True),  # output looser
        (edit("  name: String", "  name: String!"), "FIELD_TYPE_CHANGED User.name", False),  # output stricter
        (edit("verbose: Boolean)", "verbose: Boolean!)"), "ARGUMENT_TYPE_CHANGED Query.user(verbose:)", True),
        (edit("user(id: ID!,", "user(id: ID,"), "ARGUMENT_TYPE_CHANGED Query.user(id:)", False),
        (edit(", verbose: Boolean)", ")"), "ARGUMENT_REMOVED Query.user(verbose:)", True),
        (edit("first: Int = 10)", "first: Int = 10, after: String!)"), "ARGUMENT_ADDED Query.users(after:)", True),
        (edit("first: Int = 10)", "first: Int = 10, after: String)"), "ARGUMENT_ADDED Query.users(after:)", False),
        (edit("text: String ", "text: String! "), "INPUT_FIELD_TYPE_CHANGED Filter.text", True),
        (edit("limit: Int! }", "limit: Int! page: Int! }"), "INPUT_FIELD_ADDED Filter.page", True),
        (edit("limit: Int! }", "limit: Int! page: Int }"), "INPUT_FIELD_ADDED Filter.page", False),
        (edit("text: String ", ""), "INPUT_FIELD_REMOVED Filter.text", True),
        (edit("ADMIN CUSTOMER", "ADMIN"), "ENUM_VALUE_REMOVED Role.CUSTOMER", True),
        (edit("ADMIN CUSTOMER", "ADMIN CUSTOMER SERVICE"), "ENUM_VALUE_ADDED Role.SERVICE", False),
        (edit("union Result = User | Bot", "union Result = User"), "UNION_MEMBER_REMOVED Result", True),
        (edit("type Bot implements Node {", "type Bot {"), "IMPLEMENTATION_REMOVED Bot", True),
        (edit("enum Role { ADMIN CUSTOMER }", "scalar Role"), "TYPE_KIND_CHANGED Role", True),
        (OLD + "type Extra { x: Int }", "TYPE_ADDED Extra", False),
    ],
)
def test_change_is_classified(new_sdl: str, change: str, breaking: bool) -> None:
    found = changes(new_sdl)
    assert found.get(change) is breaking, found


def test_removed_type_is_breaking() -> None:
    new = OLD.replace("union Result = User | Bot", "").replace("search(f: Filter): [Result]", "")
    found = changes(new)
    assert found["TYPE_REMOVED Result"] is True
    assert found["FIELD_REMOVED Query.search"] is True


def test_identical_schemas_have_no_changes() -> None:
    assert diff_schemas(build_schema(OLD), build_schema(OLD)) == []
