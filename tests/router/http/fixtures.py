"""A one-subgraph federation for the HTTP-edge tests: supergraph SDLs, an in-process
``accounts`` subgraph (graphql-core over Starlette) that records the headers it receives, and
a real :class:`router.gateway.Gateway` (real planner, executor and subgraph client) over it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from graphql import build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router.gateway import Gateway
from router.subgraph_client import HttpSubgraphClient

_HEADER = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
{
  query: Query
  mutation: Mutation
}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

input join__ContextArgument { name: String! type: String! context: String! selection: join__FieldValue! }
scalar join__FieldSet
scalar join__FieldValue
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }

enum join__Graph {
  ACCOUNTS @join__graph(name: "accounts", url: "http://accounts.invalid/graphql")
}
"""

_TYPES = """
type Mutation @join__type(graph: ACCOUNTS) {
  rename(name: String!): String
}

type User @join__type(graph: ACCOUNTS, key: "id") {
  id: ID!
  name: String
  friends: [User!]!
}
"""

SUPERGRAPH_V1 = (
    _HEADER
    + _TYPES
    + """
type Query @join__type(graph: ACCOUNTS) {
  me: User
  hello(name: String): String
  slow: String
}
"""
)

# v2 adds Query.version, which the subgraph always had: visible only after a reload.
SUPERGRAPH_V2 = (
    _HEADER
    + _TYPES
    + """
type Query @join__type(graph: ACCOUNTS) {
  me: User
  hello(name: String): String
  slow: String
  version: String
}
"""
)

SUBGRAPH_SDL = """
type Query { me: User  hello(name: String): String  slow: String  version: String }
type Mutation { rename(name: String!): String }
type User { id: ID!  name: String  friends: [User!]! }
"""

_GRACE = {"id": "2", "name": "Grace", "friends": []}
_ADA = {"id": "1", "name": "Ada", "friends": [_GRACE]}


@dataclass
class AccountsSubgraph:
    """The in-process subgraph; ``received`` holds the headers of every request it served.
    ``slow`` blocks until ``release`` is set (to hold a request in flight)."""

    received: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    loop: asyncio.AbstractEventLoop | None = None

    def release_from_another_thread(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.release.set)

    def app(self) -> Starlette:
        schema = build_schema(SUBGRAPH_SDL)

        async def slow(info: Any) -> str:
            self.loop = asyncio.get_running_loop()
            self.entered.set()
            await self.release.wait()
            return "finally"

        root = {
            "me": _ADA,
            "hello": lambda info, name=None: f"hello {name or 'world'}",
            "slow": slow,
            "version": "v2",
            "rename": lambda info, name: name,
        }

        async def endpoint(request: Request) -> Response:
            self.received.append({k: v for k, v in request.headers.items()})
            self.paths.append(request.url.path)
            body = orjson.loads(await request.body())
            result = await graphql(
                schema,
                body["query"],
                root_value=root,
                variable_values=body.get("variables"),
                operation_name=body.get("operationName"),
            )
            out: dict[str, Any] = {"data": result.data}
            if result.errors:
                out["errors"] = [e.formatted for e in result.errors]
            return Response(orjson.dumps(out), media_type="application/json")

        return Starlette(
            routes=[Route("/graphql", endpoint, methods=["POST"]), Route("/v2/graphql", endpoint, methods=["POST"])]
        )


class RecordingClient:
    """Wraps the real subgraph client to record when the gateway closes it."""

    def __init__(self, inner: HttpSubgraphClient) -> None:
        self.inner = inner
        self.closed = False

    async def fetch(self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        return await self.inner.fetch(subgraph, body, headers)

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


def asgi_client(app: Any) -> httpx.AsyncClient:
    """A client that talks to the router ``app`` in-process (ASGITransport), at ``http://router.test``."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router.test")


def make_gateway(sdl: str, subgraph: AccountsSubgraph, **options: Any) -> tuple[Gateway, RecordingClient]:
    from router.gateway import GatewayOptions

    client = RecordingClient(
        HttpSubgraphClient({"accounts": "http://accounts.invalid/graphql"}, apps={"accounts": subgraph.app()})
    )
    return Gateway(sdl, client=client, options=GatewayOptions(**options)), client
