"""The differential test's machinery: subgraphs over real HTTP, Apollo Gateway as a Node process, one comparison.

* ``serve(app)``: an ASGI app on a free localhost port (uvicorn in a thread), yielding its base URL.
* ``reference_gateways(supergraphs, work)``: ``npm ci`` in ``bench/peers`` from its lock file when needed (npm's
  cache under ``bench/.work/``, gitignored), then ``bench/peers/gateways.mjs``: an Apollo Gateway and a Hive Gateway
  per supergraph SDL.
* ``signing_proxy(upstreams, signer, claims)``: an ASGI app the reference gateways call in place of subgraphs that
  answer only router-signed requests (our own schema); it signs each request as our router would.
* ``without_authorization(sdl, urls)``: a supergraph without the authorization features, pointed at other URLs.
* ``compare(ours, theirs)``: what must agree: ``data`` exactly, and whether ``errors`` are present.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    REMOVE,
    ArgumentNode,
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    ScalarTypeDefinitionNode,
    StringValueNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER, RouterSigner, encode_claims
from tests.fixtures.uvicorn_thread import serve_in_thread

REPO_ROOT = Path(__file__).resolve().parents[3]
PEERS_DIR = REPO_ROOT / "bench" / "peers"
NPM_CACHE = REPO_ROOT / "bench" / ".work" / "npm-cache"
_INSTALLED = PEERS_DIR / "node_modules" / ".package-lock.json"  # npm writes it after a complete install
_GATEWAY_MODULE = PEERS_DIR / "node_modules" / "@apollo" / "gateway" / "package.json"

__all__ = [
    "compare",
    "node_missing",
    "reference_gateways",
    "serve",
    "signing_proxy",
    "strings_in",
    "without_authorization",
]


def node_missing() -> str | None:
    """Why Apollo Gateway cannot run here (None when Node.js and npm are installed)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js/npm are not installed (apt-get install nodejs npm)"
    return None


def _npm_ci() -> None:
    lock = PEERS_DIR / "package-lock.json"
    if _INSTALLED.is_file() and _INSTALLED.stat().st_mtime >= lock.stat().st_mtime and _GATEWAY_MODULE.is_file():
        return
    env = {**os.environ, "npm_config_cache": str(NPM_CACHE), "NO_UPDATE_NOTIFIER": "1"}
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=PEERS_DIR, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in bench/peers failed:\n{done.stderr[-3000:]}")


@contextmanager
def reference_gateways(supergraphs: Mapping[str, str], work: Path) -> Iterator[dict[str, dict[str, str]]]:
    """Apollo Gateway and Hive Gateway (the versions bench/peers/package-lock.json pins) for each named supergraph
    SDL: name -> {"apollo": URL, "hive": URL}."""
    _npm_ci()
    args = []
    for name, sdl in supergraphs.items():
        path = work / f"{name}.graphql"
        path.write_text(sdl)
        args.append(f"{name}={path}")
    proc = subprocess.Popen(
        ["node", "gateways.mjs", *args],
        cwd=PEERS_DIR,
        env={**os.environ, "NODE_ENV": "production"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()  # the gateways print their URLs once all are listening
        if not line:
            raise RuntimeError(f"the reference gateways did not start:\n{proc.stderr.read()[-3000:]}")
        yield json.loads(line)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free localhost port for the duration; yields ``http://127.0.0.1:<port>``."""
    # Node's HTTP agents keep connections longer than uvicorn's default 5 s: a request sent on a connection uvicorn
    # has just closed fails with ECONNRESET, so keep them open longer than the gateways do.
    with serve_in_thread(app, backlog=512, timeout_keep_alive=120) as base:
        yield base


def signing_proxy(upstreams: Mapping[str, str], signer: RouterSigner, claims: Mapping[str, Any]) -> Starlette:
    """``POST /<graph>/graphql`` forwarded to ``upstreams[graph]`` (a subgraph's GraphQL URL) with ``claims`` and a
    signature made as our router makes them (docs/trust.md): the subgraphs keep requiring signed requests, and a
    reference gateway, which cannot sign, reaches them as the viewer whose ``claims`` our router forwards."""
    encoded = encode_claims(claims)
    clients: list[httpx.AsyncClient] = []  # made in the server's own event loop, on the first request

    async def forward(request: Request) -> Response:
        upstream = httpx.URL(upstreams[request.path_params["graph"]])
        if not clients:  # subgraphs close idle connections after 5 s: never reuse one that old
            clients.append(httpx.AsyncClient(timeout=60, limits=httpx.Limits(keepalive_expiry=2.0)))
        body = await request.body()
        target = upstream.raw_path.decode()
        content_type = request.headers.get("content-type", "application/json")
        for attempt in (1, 2):  # only queries pass here: a connection closed under us is tried once more
            headers = {
                "content-type": content_type,
                CLAIMS_HEADER: encoded,
                SIGNATURE_HEADER: signer.sign("POST", target, body, encoded),  # a fresh nonce each time
            }
            try:
                answer = await clients[0].post(upstream, content=body, headers=headers)
                break
            except httpx.TransportError:
                if attempt == 2:
                    raise
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    return Starlette(routes=[Route("/{graph}/graphql", forward, methods=["POST"])])


# The authorization features of a supergraph, linked `for: SECURITY` (docs/router.md §8 Authorization): Apollo
# Gateway refuses to load them.
_AUTHORIZATION = {"authenticated", "requiresScopes", "policy"}
_AUTHORIZATION_SCALARS = {"requiresScopes__Scope", "policy__Policy"}


class _Unauthorize(Visitor):
    def __init__(self, urls: Mapping[str, str]) -> None:
        super().__init__()
        self.urls = urls

    def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
        if node.name.value in _AUTHORIZATION:
            return REMOVE
        args = {a.name.value: a.value for a in node.arguments or ()}
        url = args.get("url")
        linked = url.value if node.name.value == "link" and isinstance(url, StringValueNode) else ""
        if any(f"/{feature}/" in linked for feature in _AUTHORIZATION):
            return REMOVE
        name = args.get("name")
        if node.name.value == "join__graph" and isinstance(name, StringValueNode) and name.value in self.urls:
            url_value = StringValueNode(value=self.urls[name.value])
            arguments = tuple(
                ArgumentNode(name=a.name, value=url_value) if a.name.value == "url" else a for a in node.arguments or ()
            )
            return DirectiveNode(name=node.name, arguments=arguments)
        return None

    def enter_directive_definition(self, node: DirectiveDefinitionNode, *_: Any) -> Any:
        return REMOVE if node.name.value in _AUTHORIZATION else None

    def enter_scalar_type_definition(self, node: ScalarTypeDefinitionNode, *_: Any) -> Any:
        return REMOVE if node.name.value in _AUTHORIZATION_SCALARS else None


def without_authorization(sdl: str, urls: Mapping[str, str]) -> str:
    """``sdl`` without ``@authenticated``/``@requiresScopes``/``@policy`` (their links, definitions and uses), its
    subgraphs at ``urls`` (subgraph name -> URL)."""
    document = visit(parse(sdl), _Unauthorize(urls))
    assert isinstance(document, DocumentNode)
    return print_ast(document)


def strings_in(*sources: Path) -> list[str]:
    """Short string constants of Python modules and JSON files: the ids and terms the subgraphs' data knows, used as
    ID/String argument values so generated lookups hit as often as they miss."""
    found: set[str] = set()
    for source in sources:
        if source.suffix == ".json":
            _json_strings(json.loads(source.read_text()), found)
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return sorted(s for s in found if 0 < len(s) <= 12 and s.replace("-", "").replace("_", "").isalnum())


def _json_strings(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            _json_strings(v, found)
    elif isinstance(value, list):
        for v in value:
            _json_strings(v, found)


def compare(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> str | None:
    """None when the answers agree (identical ``data``, same presence of ``errors``); else what differs."""
    problems = []
    if ours.get("data") != theirs.get("data"):
        problems.append("data differs")
    if bool(ours.get("errors")) != bool(theirs.get("errors")):
        problems.append("errors present in only one answer")
    if not problems:
        return None
    return "; ".join(problems)
