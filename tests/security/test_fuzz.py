"""Fuzzing the public edge and every subgraph over real HTTP (hypothesis).

The five processes of ``setrum dev`` (SQLite, cheap argon2 so sign-ins do not dominate) take
generated input: random JSON shapes, GraphQL documents from a grammar over the real schema's
names (aliases, fragments, directives, variables, deep nesting, unicode, huge numbers), real
operations with variables of the wrong types, bad content types, invalid UTF-8 and raw bytes.
Every answer must be below 500 and a GraphQL response: JSON with ``data`` or a non-empty
``errors`` list whose entries have a ``message`` (a 4xx included). At least 2,000 inputs per run
(``FUZZ_EXAMPLES`` per target and shape). A crash it finds becomes a named regression test in
``test_fuzz_regressions.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema, is_enum_type, is_input_object_type, is_object_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from setrum.launcher import REPO_ROOT, System, SystemPorts, free_port
from setrum_common.trust.router_signature import SIGNATURE_HEADER

pytestmark = pytest.mark.e2e

FUZZ_EXAMPLES = int(os.environ.get("SETRUM_FUZZ_EXAMPLES", "170"))
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,  # nothing written to the work tree; failures print their input
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
TARGETS = ("router", "users", "master", "transactions")


# -- the names the grammar draws from: the real schema's, plus some that do not exist ----------

_SCHEMA = build_schema(
    (REPO_ROOT / "schema" / "supergraph.graphql").read_text(), assume_valid=True, assume_valid_sdl=True
)
_FIELDS = sorted(
    {name for t in _SCHEMA.type_map.values() if is_object_type(t) for name in t.fields} - {"_entities", "_service"}
)
_ARGS = sorted(
    {arg for t in _SCHEMA.type_map.values() if is_object_type(t) for f in t.fields.values() for arg in f.args}
)
_ENUMS = sorted(
    {v for t in _SCHEMA.type_map.values() if is_enum_type(t) and not t.name.startswith("__") for v in t.values}
)
_INPUT_FIELDS = sorted({f for t in _SCHEMA.type_map.values() if is_input_object_type(t) for f in t.fields})
_TYPES = ["String", "String!", "Int", "Int!", "ID", "Decimal", "Decimal!", "Boolean", "[String!]", "SignUpInput"]

names = st.sampled_from(_FIELDS) | st.from_regex(r"\A[_A-Za-z][_0-9A-Za-z]{0,12}\Z")
arg_names = st.sampled_from(_ARGS) | st.from_regex(r"\A[a-z][A-Za-z]{0,8}\Z")


def _string_literal(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid GraphQL string (escapes included)


scalars = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=40).map(_string_literal),
    st.sampled_from(["true", "false", "null", "$v", "$m", "$d"]),
    st.sampled_from(_ENUMS or ["X"]),
    st.sampled_from(["1e999", "-0", "00", '"\\u0000"', '"""block\nstring"""', "1.5e-400", "99999999999999999999"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(_INPUT_FIELDS or ["x"]), inner, max_size=4).map(
            lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"
        ),
    ),
    max_leaves=8,
)
arguments = st.dictionaries(arg_names, values, max_size=3).map(
    lambda d: "(" + ", ".join(f"{k}: {v}" for k, v in d.items()) + ")" if d else ""
)
directives = st.sampled_from(["", "", "", " @skip(if: true)", " @include(if: $v)", " @skip(if: 1)", " @nope"])


def _field(parts: tuple[str | None, str, str, str, str | None]) -> str:
    alias, name, args, directive, sub = parts
    head = f"{alias}: {name}" if alias else name
    return head + args + directive + (f" {{ {sub} }}" if sub is not None else "")


selections = st.recursive(
    st.tuples(st.none() | names, names, arguments, directives, st.none()).map(_field),
    lambda inner: st.one_of(
        st.tuples(
            st.none() | names, names, arguments, directives, st.lists(inner, min_size=1, max_size=4).map(" ".join)
        ).map(_field),
        st.lists(inner, min_size=1, max_size=3).map(lambda s: "... on " + "Customer" + " { " + " ".join(s) + " }"),
        st.just("...F"),
        st.just("__typename"),
    ),
    max_leaves=12,
)
variable_definitions = st.lists(
    st.tuples(st.sampled_from(["v", "m", "d", "x"]), st.sampled_from(_TYPES)), max_size=3, unique_by=lambda t: t[0]
).map(lambda defs: "(" + ", ".join(f"${n}: {t}" for n, t in defs) + ")" if defs else "")
documents = st.one_of(
    st.tuples(
        st.sampled_from(["query", "mutation", "subscription", "", "query Q", "mutation M"]),
        variable_definitions,
        st.lists(selections, min_size=1, max_size=4).map(" ".join),
        st.sampled_from(
            ["", " fragment F on Customer { id }", " fragment F on Query { me { id } }", " fragment F on Nope { x }"]
        ),
    ).map(lambda p: f"{p[0]}{p[1]} {{ {p[2]} }}{p[3]}"),
    st.integers(min_value=1, max_value=300).map(lambda n: "{ me " + "{ me " * n + "}" * (n + 1)),  # deep nesting
    st.text(max_size=200),  # arbitrary text (unicode)
    st.sampled_from(["{", "}", "query {", "{ me { ...F } } fragment F on Customer { ...F }", "\u0000", "{ a(b: $) }"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
variables = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["v", "m", "d", "x", "i", "id", "meterNumber"]), json_values, max_size=4),
    json_values,
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "query": documents | json_values,
        "variables": variables,
        "operationName": st.none() | st.text(max_size=10) | st.sampled_from(["Q", "M"]) | json_values,
        "extensions": st.none()
        | json_values
        | st.fixed_dictionaries(
            {"persistedQuery": st.fixed_dictionaries({"version": json_values, "sha256Hash": json_values})}
        ),
    },
)

# Real operations, with variables of any shape and type.
REAL_OPERATIONS = [
    "query($m: String!, $d: Decimal!) { quote(meterNumber: $m, denomination: $d) { kwh totalPaid } }",
    "query($n: String!) { inquiry(number: $n) { holderName } }",
    "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }",
    "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
    "mutation($m: String!, $d: Decimal!, $r: String!) "
    "{ purchaseToken(meterNumber: $m, denomination: $d, clientReference: $r) { id status } }",
    "query($first: Int, $after: String) { me { purchases(first: $first, after: $after) { edges { node { id } } } } }",
    "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
]
real_requests = st.fixed_dictionaries(
    {
        "query": st.sampled_from(REAL_OPERATIONS),
        "variables": st.dictionaries(
            st.sampled_from(["m", "d", "n", "e", "p", "i", "r", "first", "after"]), json_values, max_size=5
        ),
    }
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "",
        "application/graphql-response+json",
        "application/json;;;",
    ]
)
raw_bytes = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=100).map(lambda b: b'{"query": "{ __typename }", "x": "' + b + b'"}'),
    st.sampled_from([b'{"query": "\xff\xfe"}', b"\xc3\x28", b'{"query": "\\ud800"}', b"[]", b"null", b"1e999", b"{}"]),
)


# -- the system under test ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    system = System(
        data_dir,
        ports=SystemPorts(*(free_port() for _ in range(5))),
        log_dir=data_dir / "logs",
        extra_env={
            # Cheap hashes: thousands of generated sign-ins must not take minutes.
            "USERS_PASSWORD_TIME_COST": "1",
            "USERS_PASSWORD_MEMORY_KIB": "1024",
            "USERS_PASSWORD_PARALLELISM": "1",
            "ROUTER_CSRF__ENABLED": "false",  # let the fuzzer's GETs and odd content types reach the decoder
        },
    )
    system.start(timeout_s=120)
    try:
        yield system
    finally:
        system.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as client:
        yield client


def _url(system: System, target: str) -> str:
    return system.router_url if target == "router" else f"{system.spec(target).base_url}/graphql"


def check_graphql_answer(response: httpx.Response, sent: object) -> None:
    """Below 500, and a GraphQL response (JSON with data, or with errors that have messages)."""
    assert response.status_code < 500, (response.status_code, response.text[:500], sent)
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(("not JSON", response.status_code, response.text[:300], sent)) from None
    assert isinstance(body, dict | list), (body, sent)
    for item in body if isinstance(body, list) else [body]:
        assert isinstance(item, dict) and ("data" in item or "errors" in item), (item, sent)
        errors = item.get("errors")
        if errors is not None:
            assert isinstance(errors, list) and errors, (item, sent)
            assert all(isinstance(e, dict) and isinstance(e.get("message"), str) for e in errors), (item, sent)
        if response.status_code >= 400:
            assert errors, (response.status_code, item, sent)


def _send(http: httpx.Client, system: System, target: str, request: httpx.Request) -> httpx.Response:
    """Send ``request``; to a subgraph, signed as this system's router signs (subgraphs answer GraphQL
    only to the router: unsigned, every input would stop at the same 401)."""
    if target != "router":
        path = request.url.raw_path.decode()
        request.headers[SIGNATURE_HEADER] = system.router_signer().sign(request.method, path, request.content)
    return http.send(request)


def _post_json(http: httpx.Client, system: System, target: str, payload: object) -> httpx.Response:
    url = _url(system, target)
    body = json.dumps(payload).encode()
    return _send(http, system, target, http.build_request("POST", url, content=body, headers=_JSON))


_JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("target", TARGETS)
def test_the_fuzzer_reaches_graphql_on_every_target(system: System, http: httpx.Client, target: str) -> None:
    # Otherwise every generated input to a subgraph would stop at the signature check.
    assert _post_json(http, system, target, {"query": "{ __typename }"}).json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("target", TARGETS)
def test_generated_documents_and_bodies(system: System, http: httpx.Client, target: str) -> None:
    @FUZZ_SETTINGS
    @given(body=bodies)
    def one(body: dict[str, Any]) -> None:
        check_graphql_answer(_post_json(http, system, target, body), body)

    one()


@pytest.mark.parametrize("target", TARGETS)
def test_real_operations_with_wrong_variables(system: System, http: httpx.Client, target: str) -> None:
    @FUZZ_SETTINGS
    @given(body=real_requests)
    def one(body: dict[str, Any]) -> None:
        check_graphql_answer(_post_json(http, system, target, body), body)

    one()


@pytest.mark.parametrize("target", TARGETS)
def test_raw_bytes_content_types_and_get(system: System, http: httpx.Client, target: str) -> None:
    url = _url(system, target)

    @FUZZ_SETTINGS
    @given(payload=raw_bytes, content_type=content_types, query=documents, use_get=st.booleans())
    def one(payload: bytes, content_type: str, query: str, use_get: bool) -> None:
        if use_get:
            request = http.build_request("GET", url, params={"query": query}, headers={"accept": "application/json"})
        else:
            request = http.build_request("POST", url, content=payload, headers={"content-type": content_type})
        check_graphql_answer(_send(http, system, target, request), (payload, content_type, query, use_get))

    one()
