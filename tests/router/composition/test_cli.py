"""The compose and diff commands, through their argv entry points, on files in a temporary directory."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import httpx
import pytest

from router.composition.compose_cli import compose_command
from router.composition.config import load_config, load_sources
from router.composition.diff import diff_command
from router.errors import CompositionConfigError

LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])\n'
USERS = LINK + 'type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }\n'
ORDERS = LINK + 'type User @key(fields: "id") { id: ID! orders: [Int!]! }\n'
CONFIG = """output: out/supergraph.graphql
subgraphs:
  users: { routing_url: http://127.0.0.1:4001/graphql, schema: { file: users.graphql } }
  orders: { routing_url: http://127.0.0.1:4003/graphql, schema: { file: orders.graphql } }
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "users.graphql").write_text(USERS)
    (tmp_path / "orders.graphql").write_text(ORDERS)
    (tmp_path / "supergraph.yaml").write_text(CONFIG)
    return tmp_path


def run(cmd, argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cmd(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_compose_writes_output_from_config_and_check_passes(workdir: Path) -> None:
    code, out, _ = run(compose_command, ["--config", str(workdir / "supergraph.yaml")])
    assert code == 0, out
    sdl = (workdir / "out" / "supergraph.graphql").read_text()
    assert 'USERS @join__graph(name: "users", url: "http://127.0.0.1:4001/graphql")' in sdl
    code, out, _ = run(compose_command, ["--config", str(workdir / "supergraph.yaml"), "--check"])
    assert code == 0 and "up to date" in out


def test_check_fails_on_stale_output_and_writes_nothing(workdir: Path) -> None:
    target = workdir / "out" / "supergraph.graphql"
    target.parent.mkdir()
    target.write_text("# old\n")
    code, _, err = run(compose_command, ["--config", str(workdir / "supergraph.yaml"), "--check"])
    assert code == 1 and "stale" in err
    assert target.read_text() == "# old\n"


def test_composition_errors_are_printed_as_lines(workdir: Path) -> None:
    (workdir / "orders.graphql").write_text(LINK + 'type User @key(fields: "id") { id: ID! name: String }\n')
    code, _, err = run(
        compose_command, ["--config", str(workdir / "supergraph.yaml"), "--output", str(workdir / "x.graphql")]
    )
    assert code == 1
    assert (
        "ERROR [INVALID_FIELD_SHARING] orders.User.name: " in err
        or "ERROR [INVALID_FIELD_SHARING] users.User.name: " in err
    )
    assert not (workdir / "x.graphql").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("subgraphs: {}", "non-empty `subgraphs`"),
        ("subgraphs: { a: { routing_url: http://x, schema: { file: a.graphql }, extra: 1 } }", "unknown key"),
        ("subgraphs: { a: { routing_url: http://x, schema: {} } }", "exactly one of"),
        ("subgraphs: [", "not valid YAML"),
    ],
)
def test_bad_config_is_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CompositionConfigError, match=message):
        load_config(path)
    code, _, err = run(compose_command, ["--config", str(path)])
    assert code == 1 and message.split()[0] in err


def test_subgraph_url_is_fetched_with_service_sdl_query(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("subgraphs: { users: { routing_url: http://u/graphql, schema: { subgraph_url: http://u/sdl } } }")
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json={"data": {"_service": {"sdl": USERS}}})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        sources = load_sources(load_config(path), client)
    assert sources[0].sdl == USERS and sources[0].url == "http://u/graphql"
    assert b"_service" in seen[0] and b"sdl" in seen[0]


def test_diff_files_exit_code_follows_breaking_changes(workdir: Path) -> None:
    assert run(compose_command, ["--config", str(workdir / "supergraph.yaml")])[0] == 0
    old = workdir / "out" / "supergraph.graphql"
    (workdir / "orders.graphql").write_text(LINK + 'type User @key(fields: "id") { id: ID! }\n')
    new = workdir / "new.graphql"
    assert run(compose_command, ["--config", str(workdir / "supergraph.yaml"), "--output", str(new)])[0] == 0
    code, out, _ = run(diff_command, [str(old), str(new)])
    assert code == 1 and "BREAKING FIELD_REMOVED User.orders" in out
    code, out, _ = run(diff_command, [str(new), str(old)])
    assert code == 0 and "FIELD_ADDED User.orders" in out


def test_diff_ignores_inaccessible_elements_of_supergraphs(tmp_path: Path) -> None:
    from router.composition import SubgraphSource, compose

    link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@inaccessible"])\n'
    old = compose([SubgraphSource("a", "http://a", link + "type Query { x: Int y: Int }")]).supergraph_sdl
    new = compose([SubgraphSource("a", "http://a", link + "type Query { x: Int y: Int @inaccessible }")]).supergraph_sdl
    assert old and new
    (tmp_path / "old.graphql").write_text(old)
    (tmp_path / "new.graphql").write_text(new)
    code, out, _ = run(diff_command, [str(tmp_path / "old.graphql"), str(tmp_path / "new.graphql")])
    assert code == 1 and "FIELD_REMOVED Query.y" in out


def test_diff_against_git_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = tmp_path / "schema" / "supergraph.graphql"
    schema.parent.mkdir()
    schema.write_text("type Query { a: Int b: String }\n")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "schema/supergraph.graphql"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    schema.write_text("type Query { a: Int }\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(diff_command, ["--base", "HEAD"])
    assert code == 1 and "FIELD_REMOVED Query.b" in out
    code, _, err = run(diff_command, ["--base", "no-such-rev"])
    assert code == 2 and "ERROR" in err
