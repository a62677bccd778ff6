"""Typed router configuration, read from ``ROUTER_*`` environment variables.

One nested model per section (``headers``, ``subgraphs``, ``limits``, ``hot_reload``,
``gateway``), nested env keys joined with ``__``; unknown keys are refused (``extra="forbid"``)
so a typo fails at startup instead of silently doing nothing. Examples::

    ROUTER_PORT=4000
    ROUTER_SUPERGRAPH=schema/supergraph.graphql
    SETRUM_ENV=production                       # GraphiQL + introspection off, JSON logs
    ROUTER_SUBGRAPHS__URLS__users=http://users:8001/graphql
    ROUTER_SUBGRAPHS__TIMEOUTS__transactions=5
    ROUTER_LIMITS__MAX_DEPTH=12
    ROUTER_HEADERS__PROPAGATE='["authorization", "x-tenant"]'
    ROUTER_HOT_RELOAD__ENABLED=false

Production switches are "off unless explicitly enabled": ``graphiql`` and ``introspection``
default to ``None`` and resolve through :attr:`RouterSettings.graphiql_enabled` /
:attr:`RouterSettings.introspection_enabled`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from router.subgraph_client import RetryPolicy
from setrum_common.cpu_policy import CpuPolicy
from setrum_common.fastpath import FASTPATH_DESCRIPTION, FastPathMode
from setrum_common.fastpath.http import DEFAULT_MAX_RESPONSE_BYTES
from setrum_common.http_limits import DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_REQUEST_HEAD_BYTES, HeaderLimits
from setrum_common.overload import LimiterOptions
from setrum_common.settings import DEVELOPMENT_SECRETS, HEAD_DESCRIPTION, HEADER_DESCRIPTION
from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER

__all__ = [
    "DEFAULT_POLICIES",
    "AuthorizationSettings",
    "DEFAULT_BATCH_MAX_SIZE",
    "DEFAULT_HOST",
    "DEFAULT_LARGE_BODY_BYTES",
    "DEFAULT_MAX_ALIASES",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_FIELDS",
    "DEFAULT_MAX_ROOT_FIELDS",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MAX_VALIDATION_ERRORS",
    "DEFAULT_POLL_INTERVAL_S",
    "DEFAULT_PORT",
    "DEFAULT_PROPAGATED_HEADERS",
    "DEFAULT_SUBGRAPH_TIMEOUT_S",
    "DEFAULT_SUPERGRAPH_PATH",
    "HTTP_LIMITS",
    "QUERY_PLAN_HEADER",
    "RESERVED_HEADERS",
    "AuthenticationSettings",
    "BatchingSettings",
    "CorsSettings",
    "CsrfSettings",
    "PersistedQueriesSettings",
    "DeadlineSettings",
    "GatewaySettings",
    "HeaderRules",
    "HotReloadSettings",
    "LimitsSettings",
    "OverloadSettings",
    "QueryPlanSettings",
    "RateLimitRule",
    "RateLimitSettings",
    "SharedStoreSettings",
    "RouterSettings",
    "SigningSettings",
    "SubscriptionSettings",
    "SubgraphSettings",
    "TrafficShapingSettings",
]

DEFAULT_SUPERGRAPH_PATH = Path("schema/supergraph.graphql")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4000
DEFAULT_SUBGRAPH_TIMEOUT_S = 10.0
DEFAULT_PROPAGATED_HEADERS: tuple[str, ...] = ("authorization",)
# Apollo Router's default request body cap (2 MB). The operation caps are generous for GraphiQL's
# own introspection query (163 tokens, depth 15, 229 fields) and every operation our clients send,
# and far below what makes parsing or validation slow.
DEFAULT_MAX_BODY_BYTES = 2_000_000
# Our operations are a few hundred bytes; bigger bodies are rare and cost the router most to refuse.
DEFAULT_LARGE_BODY_BYTES = 32 * 1024
DEFAULT_MAX_TOKENS = 5_000
DEFAULT_MAX_DEPTH = 15
DEFAULT_MAX_ALIASES = 30
DEFAULT_MAX_ROOT_FIELDS = 20
DEFAULT_MAX_FIELDS = 500
DEFAULT_MAX_VALIDATION_ERRORS = 100
DEFAULT_POLL_INTERVAL_S = 1.0
DEFAULT_BATCH_MAX_SIZE = 10
QUERY_PLAN_HEADER = "x-setrum-query-plan"

# Never sent to a subgraph whatever the rules say: hop-by-hop headers (RFC 9110 §7.6.1), headers
# describing the client's own body/connection (the subgraph client sets its own), the
# federated-tracing switch, which would make subgraphs do extra work on a client's say-so, and
# the signed claims and signature the router alone writes.
RESERVED_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-type",
        "content-encoding",
        "accept",
        "accept-encoding",
        "host",
        "apollo-federation-include-trace",
        # Only the router itself writes these (setrum_common/trust/): a client's are never forwarded.
        CLAIMS_HEADER,
        SIGNATURE_HEADER,
    }
)

_ENV_PREFIX = "ROUTER_"
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HeaderRules(_Section):
    """Which client headers reach the subgraphs (Apollo Router's ``headers`` plugin, all subgraphs).

    Order: propagate (exact names, then regexes) -> rename -> insert static values. Reserved
    headers (:data:`RESERVED_HEADERS`) are dropped at the end no matter which rule produced them.
    """

    propagate: list[str] = Field(default_factory=lambda: list(DEFAULT_PROPAGATED_HEADERS))
    propagate_matching: list[str] = Field(default_factory=list, description="regexes, full match, case-insensitive")
    rename: dict[str, str] = Field(default_factory=dict, description="client header -> subgraph header name")
    insert: dict[str, str] = Field(default_factory=dict, description="static headers sent to every subgraph")
    forward_request_id: bool = True

    @field_validator("propagate")
    @classmethod
    def _lower_names(cls, names: list[str]) -> list[str]:
        return [_checked_name(n) for n in names]

    @field_validator("rename", "insert")
    @classmethod
    def _lower_keys(cls, mapping: dict[str, str]) -> dict[str, str]:
        return {_checked_name(k): v for k, v in mapping.items()}

    @field_validator("rename")
    @classmethod
    def _rename_targets(cls, mapping: dict[str, str]) -> dict[str, str]:
        return {k: _checked_name(v) for k, v in mapping.items()}

    @field_validator("propagate_matching")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid header regex {pattern!r}: {exc}") from None
        return patterns


def _checked_name(name: str) -> str:
    lowered = name.strip().lower()
    if not _HEADER_NAME.match(lowered):
        raise ValueError(f"invalid header name {name!r}")
    if lowered in RESERVED_HEADERS:
        raise ValueError(f"header {lowered!r} is never forwarded to subgraphs")
    return lowered


class SubgraphSettings(_Section):
    """Subgraph endpoints: URL overrides (else the supergraph's ``join__graph`` URLs) and timeouts."""

    urls: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=DEFAULT_SUBGRAPH_TIMEOUT_S, gt=0)
    timeouts: dict[str, float] = Field(default_factory=dict, description="per-subgraph timeout override (s)")
    max_response_bytes: int = Field(
        default=DEFAULT_MAX_RESPONSE_BYTES, gt=0, description="cap on a subgraph answer, as sent and once decompressed"
    )
    max_in_flight: int | None = Field(
        default=256, gt=0, description="bulkhead: fetches in flight per subgraph before more fail at once"
    )

    @field_validator("timeouts")
    @classmethod
    def _positive(cls, timeouts: dict[str, float]) -> dict[str, float]:
        for name, value in timeouts.items():
            if value <= 0:
                raise ValueError(f"timeout for {name!r} must be > 0")
        return timeouts


class DeadlineSettings(_Section):
    """How long a client waits when it sends no ``x-setrum-deadline-ms``, and what the router keeps of it
    to answer: subgraphs get the rest, so they time out (and say so) before the client gives up."""

    default_s: float = Field(default=10.0, gt=0)
    margin_s: float = Field(default=0.2, ge=0)


class OverloadSettings(_Section):
    """The adaptive concurrency limit (setrum_common/overload.py): requests over it wait in a queue
    that holds what the limit clears within ``queue_timeout_s``; the rest get 503 + Retry-After
    (GraphQL code OVERLOADED) at once."""

    enabled: bool = True
    door: bool = Field(
        default=True,
        description="while the limit is pressed, the HTTP server refuses what it would refuse at once, before the app",
    )
    initial_limit: int = Field(default=64, gt=0)
    min_limit: int = Field(default=2, gt=0)
    max_limit: int = Field(default=512, gt=0)
    queue_timeout_s: float = Field(
        default=0.25, ge=0, description="the queue over the limit holds what drains in this time (docs/overload.md)"
    )
    max_wait_factor: float = Field(
        default=3.0, ge=1.0, description="a queued request still waiting after this many queue_timeout_s is refused"
    )
    sojourn_factor: float = Field(
        default=2.0,
        ge=1.0,
        description="newcomers are refused at once while the oldest waiter has waited this many queue_timeout_s",
    )
    baseline_floor_s: float = Field(
        default=0.025, ge=0, description="own latencies under this never count as a queue (event-loop noise)"
    )
    refusal_delay_s: float = Field(
        default=0.02,
        ge=0,
        le=0.05,
        description="a refusal is held this long first: clients that retry at once do not spin",
    )

    def options(self) -> LimiterOptions:
        return LimiterOptions(
            initial_limit=self.initial_limit,
            min_limit=self.min_limit,
            max_limit=self.max_limit,
            queue_timeout_s=self.queue_timeout_s,
            max_wait_factor=self.max_wait_factor,
            sojourn_factor=self.sojourn_factor,
            baseline_floor_s=self.baseline_floor_s,
        )


class LimitsSettings(_Section):
    """Request limits (Apollo's ``limits`` plugin). ``None`` disables a check."""

    max_body_bytes: int | None = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    large_body_bytes: int | None = Field(
        default=DEFAULT_LARGE_BODY_BYTES,
        gt=0,
        description="bodies over this size pass a gate of max_large_bodies slots per process (None: no gate)",
    )
    max_large_bodies: int = Field(default=1, gt=0, description="large bodies in the pipeline at once, per process")
    large_body_wait_s: float = Field(
        default=2.0, gt=0, description="how long a large body may wait for a slot before 503 OVERLOADED"
    )
    max_tokens: int | None = Field(
        default=DEFAULT_MAX_TOKENS, gt=0, description="lexical tokens per document, comments included"
    )
    max_depth: int | None = Field(default=DEFAULT_MAX_DEPTH, gt=0)
    max_aliases: int | None = Field(default=DEFAULT_MAX_ALIASES, ge=0)
    max_root_fields: int | None = Field(default=DEFAULT_MAX_ROOT_FIELDS, gt=0)
    max_fields: int | None = Field(
        default=DEFAULT_MAX_FIELDS, gt=0, description="fields per operation, fragments counted per spread"
    )
    max_validation_errors: int = Field(
        default=DEFAULT_MAX_VALIDATION_ERRORS, gt=0, description="validation stops after this many errors"
    )
    max_cost: int | None = Field(
        default=None,
        gt=0,
        description="refuse an operation whose estimated cost (@cost/@listSize) is over this, with "
        "COST_ESTIMATED_TOO_EXPENSIVE (None: no limit)",
    )
    list_size: int = Field(
        default=10, gt=0, description="size assumed for a list without @listSize, in the cost estimate"
    )


# The limits the HTTP layer enforces (router/layers/body_limit.py); the others go to the gateway.
HTTP_LIMITS = frozenset({"max_body_bytes", "large_body_bytes", "max_large_bodies", "large_body_wait_s"})


class HotReloadSettings(_Section):
    """Poll the supergraph file and swap in a new gateway when it changes."""

    enabled: bool = True
    poll_interval_s: float = Field(default=DEFAULT_POLL_INTERVAL_S, gt=0)


class QueryPlanSettings(_Section):
    """Let clients ask for the query plan with ``x-setrum-query-plan: true`` (off by default)."""

    expose: bool = False


class BatchingSettings(_Section):
    """Accept a JSON array of operations in one POST (off by default, like Apollo Router)."""

    enabled: bool = False
    max_size: int = Field(default=DEFAULT_BATCH_MAX_SIZE, gt=0)


# Setrum's schema marks admin-only fields @policy(policies: [["admin"]]); users issue role ADMIN to admins.
DEFAULT_POLICIES = {"admin": "role == ADMIN"}

DEFAULT_CSRF_HEADERS: tuple[str, ...] = ("x-apollo-operation-name", "apollo-require-preflight")


class CorsSettings(_Section):
    """Browser origins allowed to call the router (Apollo Router's ``cors``). None by default:
    the web app and GraphiQL are served by the router itself, so they are same-origin."""

    origins: list[str] = Field(default_factory=list, description="exact origins, e.g. https://app.example.id")
    match_origins: str | None = Field(default=None, description="regex an origin may fully match instead")
    allow_credentials: bool = Field(default=False, description="let browsers send cookies/authorization")
    allow_headers: list[str] = Field(
        default_factory=lambda: [
            "content-type", "authorization", "x-request-id", "traceparent", "tracestate", *DEFAULT_CSRF_HEADERS,
        ]
    )  # fmt: skip
    expose_headers: list[str] = Field(default_factory=lambda: ["x-request-id"])
    max_age_s: int = Field(default=600, ge=0, description="how long a browser may cache a preflight answer")

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> CorsSettings:
        if self.allow_credentials and "*" in self.origins:
            raise ValueError("cors: allow_credentials cannot be used with the '*' origin; list the origins")
        if self.match_origins is not None:
            try:
                re.compile(self.match_origins)
            except re.error as exc:
                raise ValueError(f"cors: invalid match_origins regex: {exc}") from None
        return self


class CsrfSettings(_Section):
    """CSRF prevention (Apollo Router's ``csrf``): a GET, or a POST a browser could send without a
    preflight (no JSON content type), needs one of ``required_headers`` or is refused with 400."""

    enabled: bool = True
    required_headers: list[str] = Field(default_factory=lambda: list(DEFAULT_CSRF_HEADERS))

    @field_validator("required_headers")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        if not names:
            raise ValueError("csrf: give at least one required header, or set enabled=false")
        for name in names:
            if not _HEADER_NAME.match(name):
                raise ValueError(f"csrf: invalid header name {name!r}")
        return [n.lower() for n in names]


class PersistedQueriesSettings(_Section):
    """Automatic persisted queries and trusted documents (see ``router/layers/persisted.py``)."""

    apq: bool = Field(default=True, description="register documents by SHA-256 hash (Apollo APQ protocol)")
    cache_size: int = Field(
        default=10_000, ge=0, description="APQ documents kept per router process (LRU), in front of the shared store"
    )
    manifest: Path | None = Field(
        default=None, description="trusted documents: JSON {id: document} or an Apollo persisted query manifest"
    )
    safelist: Literal["off", "log", "enforce"] = Field(
        default="off", description="off; log operations not in the manifest; enforce: refuse them"
    )

    @model_validator(mode="after")
    def _manifest_for_safelist(self) -> PersistedQueriesSettings:
        if self.safelist != "off" and self.manifest is None:
            raise ValueError("persisted_queries: safelist log/enforce needs a manifest")
        return self


JWT_ALGORITHMS = ("HS256", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")
JwtAlgorithm = Literal["HS256", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class AuthenticationSettings(_Section):
    """The client's bearer JWT, verified at the edge (``router/layers/authentication.py``). Off until
    a key source is given: ``hs256_secret`` (development) and/or ``jwks_file`` / ``jwks_url``."""

    hs256_secret: SecretStr | None = Field(default=None, description="HS256 key (development); enables auth")
    jwks_file: Path | None = Field(default=None, description="JWKS file of public keys (RS256/ES256/EdDSA)")
    jwks_url: str | None = Field(default=None, description="JWKS URL, e.g. the issuer's /.well-known/jwks.json")
    jwks_refresh_s: float = Field(default=300.0, gt=0, description="re-read the JWKS this often")
    jwks_min_refetch_s: float = Field(
        default=10.0, ge=0, description="at most one JWKS fetch this often, even for unknown kids"
    )
    jwks_timeout_s: float = Field(default=5.0, gt=0)
    algorithms: list[JwtAlgorithm] | None = Field(
        default=None, description="accepted algs; unset: HS256 with a secret, the asymmetric ones with a JWKS"
    )
    issuers: list[str] = Field(default_factory=list, description="accepted iss values (empty: any)")
    audiences: list[str] = Field(default_factory=list, description="accepted aud values (empty: no aud check)")
    clock_skew_s: float = Field(default=30.0, ge=0, le=300, description="leeway for exp and nbf")
    header_name: str = "authorization"
    header_prefix: str = "Bearer"
    role_claim: str = "role"
    service_roles: list[str] = Field(
        default_factory=lambda: ["SERVICE"], description="role values refused at the edge (service identities)"
    )
    service_issuers: list[str] = Field(default_factory=list, description="iss values refused at the edge")

    @property
    def enabled(self) -> bool:
        return self.hs256_secret is not None or self.jwks_file is not None or self.jwks_url is not None

    def effective_algorithms(self) -> list[str]:
        if self.algorithms is not None:
            return list(self.algorithms)
        found = ["HS256"] if self.hs256_secret is not None else []
        if self.jwks_file is not None or self.jwks_url is not None:
            found += [a for a in JWT_ALGORITHMS if a != "HS256"]
        return found

    @model_validator(mode="after")
    def _consistent(self) -> AuthenticationSettings:
        if self.jwks_file is not None and self.jwks_url is not None:
            raise ValueError("authentication: give jwks_file or jwks_url, not both")
        if self.hs256_secret is not None and len(self.hs256_secret.get_secret_value()) < 32:
            raise ValueError("authentication: hs256_secret must be at least 32 characters")
        if self.algorithms is not None and "HS256" in self.algorithms and self.hs256_secret is None:
            raise ValueError("authentication: HS256 is listed but no hs256_secret is configured")
        if self.header_name and not _HEADER_NAME.match(self.header_name):
            raise ValueError(f"authentication: invalid header name {self.header_name!r}")
        return self


class AuthorizationSettings(_Section):
    """The authorization directives ``@authenticated``, ``@requiresScopes`` and ``@policy``, judged against the
    verified JWT claims; what the caller may not see is null with an error (docs/router.md §8 Authorization)."""

    enabled: bool = Field(default=True, description="enforce the directives (off: every field is served as asked)")
    reject_unauthorized: bool = Field(
        default=False, description="refuse the whole operation instead of removing what the caller may not see"
    )
    dry_run: bool = Field(default=False, description="remove nothing; log and report what would be removed")
    policies: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_POLICIES),
        description="@policy name -> rule over claims ('role == ADMIN', 'scope has x', ...) or python:module:function",
    )

    @field_validator("policies")
    @classmethod
    def _readable(cls, policies: dict[str, str]) -> dict[str, str]:
        from router.stages.access.policies import PolicyError, compile_policy

        for name, rule in policies.items():
            try:
                compile_policy(rule)
            except PolicyError as exc:
                raise ValueError(f"authorization: policy {name!r}: {exc}") from None
        return policies


class SharedStoreSettings(_Section):
    """State shared by router replicas: rate-limit counters and APQ documents (router/shared_store.py)."""

    url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://… (replicas) or sqlite+aiosqlite:///file (processes of one machine); "
        "unset: this process only",
    )
    apq_ttl_s: int = Field(default=86_400, gt=0, description="how long a registered APQ document is kept there")

    @field_validator("url")
    @classmethod
    def _known_engine(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("shared_store: url must be postgresql+asyncpg://… or sqlite+aiosqlite://…")
        return url


class RateLimitRule(_Section):
    """At most ``limit`` operations selecting one of ``fields`` (root field names) per ``window_s``
    seconds, counted per client IP or per customer (the verified token's subject)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    fields: list[str] = Field(min_length=1)
    per: Literal["ip", "customer"]
    limit: int = Field(gt=0)
    window_s: int = Field(gt=0)


# Setrum's own rules; on another supergraph a rule naming fields it lacks never matches.
DEFAULT_RATE_LIMIT_RULES: tuple[RateLimitRule, ...] = (
    RateLimitRule(name="sign-in-per-ip", fields=["signIn"], per="ip", limit=30, window_s=60),
    RateLimitRule(name="sign-up-per-ip", fields=["signUp"], per="ip", limit=20, window_s=60),
    RateLimitRule(name="purchases-per-customer", fields=["purchaseToken"], per="customer", limit=30, window_s=60),
)


class RateLimitSettings(_Section):
    """Rate limits by rule (router/layers/rate_limit.py): 429 + Retry-After, GraphQL code RATE_LIMITED."""

    enabled: bool = True
    rules: list[RateLimitRule] = Field(
        default_factory=lambda: [rule.model_copy() for rule in DEFAULT_RATE_LIMIT_RULES],
        description="JSON list of {name, fields, per: ip|customer, limit, window_s}",
    )
    trusted_proxy_hops: int = Field(
        default=0,
        ge=0,
        description="proxies of ours in front of the router: the client IP is that many X-Forwarded-For "
        "entries from the right (0: the TCP peer)",
    )
    client_ip_header: str | None = Field(
        default="x-setrum-client-ip", description="header carrying the client IP to subgraphs (unset: not sent)"
    )

    @model_validator(mode="after")
    def _unique_names(self) -> RateLimitSettings:
        names = [rule.name for rule in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rate_limits: rule names must be unique")
        if self.client_ip_header is not None:
            self.client_ip_header = _checked_name(self.client_ip_header)
        return self


class SigningSettings(_Section):
    """Sign every subgraph request with this router's Ed25519 key (``setrum_common/trust/``), so
    subgraphs can tell the router from anyone else who reaches their port. Off until a key is given."""

    key: SecretStr | None = Field(
        default=None, description="Ed25519 private key: PEM, or the 32-byte seed in base64 or base64url"
    )
    key_file: Path | None = Field(default=None, description="file holding the same (PEM, base64 or base64url)")
    key_id: str = Field(default="router", description="names the key; subgraphs look up its public key by it")

    @property
    def enabled(self) -> bool:
        return self.key is not None or self.key_file is not None

    @model_validator(mode="after")
    def _one_source(self) -> SigningSettings:
        if self.key is not None and self.key_file is not None:
            raise ValueError("signing: give key or key_file, not both")
        return self


class TrafficShapingSettings(_Section):
    """How the router shapes its traffic to subgraphs (Apollo Router's ``traffic_shaping``)."""

    deduplicate_subgraph_queries: bool = Field(
        default=True,
        description="identical subgraph queries in flight at once (same subgraph, body and headers) share one request",
    )
    retry_refused_fetches: bool = Field(
        default=True,
        description="a fetch a subgraph refused as overloaded (503 OVERLOADED: it did not run) is sent once more",
    )
    retry_delay_s: float = Field(default=0.025, ge=0, le=1.0, description="pause before that retry (jittered ±50 %)")
    retry_budget_percent: float = Field(
        default=0.2, ge=0, le=1.0, description="retries earned per fetch sent (the budget: a storm is not doubled)"
    )
    retry_min_per_s: float = Field(default=10.0, ge=0, description="retries a quiet router may still send per second")

    def retry_policy(self) -> RetryPolicy | None:
        if not self.retry_refused_fetches:
            return None
        return RetryPolicy(
            delay_s=self.retry_delay_s, percent=self.retry_budget_percent, min_per_s=self.retry_min_per_s
        )


class SubscriptionSettings(_Section):
    """Subscriptions at the edge: GraphQL over SSE (``Accept: text/event-stream``) and graphql-transport-ws on
    ``/graphql``; the router subscribes to the owning subgraph over graphql-transport-ws
    (docs/router.md §11 Subscriptions)."""

    enabled: bool = Field(default=True, description="serve subscriptions (SSE and WebSocket)")
    max_opened: int = Field(
        default=1000, ge=1, description="subscriptions open at once in this router process; more are refused"
    )
    max_per_connection: int = Field(
        default=10, ge=1, description="operations one WebSocket may run at once; one more is refused with an error"
    )
    keepalive_s: float = Field(
        default=15.0,
        gt=0,
        description="an SSE comment line after this long without an event keeps proxies from closing it",
    )
    connection_init_timeout_s: float = Field(
        default=10.0, gt=0, description="a WebSocket that sends no connection_init this long is closed (4408)"
    )


class GatewaySettings(_Section):
    """Options handed to the gateway core (``router.gateway.GatewayOptions``)."""

    plan_cache_size: int | None = Field(default=None, ge=0)
    document_cache_size: int | None = Field(default=None, ge=0)
    include_subgraph_errors: bool | None = None


class RouterSettings(BaseSettings):
    """Root router configuration; see the module docstring for the environment syntax."""

    model_config = SettingsConfigDict(
        env_prefix=_ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        populate_by_name=True,
    )

    env: Literal["development", "production"] = Field(default="development", validation_alias="SETRUM_ENV")
    fastpath: FastPathMode = Field(default="on", validation_alias="SETRUM_FASTPATH", description=FASTPATH_DESCRIPTION)
    max_request_head_bytes: int = Field(
        default=DEFAULT_MAX_REQUEST_HEAD_BYTES,
        gt=0,
        validation_alias="SETRUM_MAX_REQUEST_HEAD_BYTES",
        description=HEAD_DESCRIPTION,
    )
    max_header_bytes: int = Field(
        default=DEFAULT_MAX_HEADER_BYTES,
        gt=0,
        validation_alias="SETRUM_MAX_HEADER_BYTES",
        description=HEADER_DESCRIPTION,
    )
    supergraph: Path = DEFAULT_SUPERGRAPH_PATH
    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    workers: int = Field(
        default=1,
        ge=1,
        description="processes serving the port; SIGTERM to the parent drains each (setrum_common/workers.py)",
    )
    cpu_policy: CpuPolicy = Field(
        default="normal",
        description="CPU scheduling: 'batch' never preempts another process on waking, for a router sharing "
        "cores with its subgraphs (setrum_common/cpu_policy.py; setrum dev sets it)",
    )
    graphiql: bool | None = None
    introspection: bool | None = None
    log_json: bool | None = None
    log_level: str = "INFO"
    web_app_dir: Path | None = Field(
        default=None, description="built customer web app served at /app/ (setrum dev sets it)"
    )
    shutdown_drain_s: float = Field(
        default=0.0, ge=0, description="on SIGTERM, answer /ready 503 this long before refusing new connections"
    )
    shutdown_timeout_s: float = Field(
        default=30.0, gt=0, description="on SIGTERM, how long requests in flight may take"
    )
    headers: HeaderRules = Field(default_factory=HeaderRules)
    subgraphs: SubgraphSettings = Field(default_factory=SubgraphSettings)
    traffic_shaping: TrafficShapingSettings = Field(default_factory=TrafficShapingSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    deadline: DeadlineSettings = Field(default_factory=DeadlineSettings)
    overload: OverloadSettings = Field(default_factory=OverloadSettings)
    hot_reload: HotReloadSettings = Field(default_factory=HotReloadSettings)
    query_plan: QueryPlanSettings = Field(default_factory=QueryPlanSettings)
    batching: BatchingSettings = Field(default_factory=BatchingSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    cors: CorsSettings = Field(default_factory=CorsSettings)
    csrf: CsrfSettings = Field(default_factory=CsrfSettings)
    persisted_queries: PersistedQueriesSettings = Field(default_factory=PersistedQueriesSettings)
    shared_store: SharedStoreSettings = Field(default_factory=SharedStoreSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    authentication: AuthenticationSettings = Field(default_factory=AuthenticationSettings)
    authorization: AuthorizationSettings = Field(default_factory=AuthorizationSettings)
    signing: SigningSettings = Field(default_factory=SigningSettings)
    subscriptions: SubscriptionSettings = Field(default_factory=SubscriptionSettings)

    @model_validator(mode="after")
    def _known_level(self) -> RouterSettings:
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {self.log_level!r}")
        return self

    @model_validator(mode="after")
    def _no_unknown_env(self) -> RouterSettings:
        # pydantic-settings silently ignores unknown prefixed variables; a typo such as
        # ROUTER_LIMIT__MAX_DEPTH must fail like an unknown key does.
        known = set(type(self).model_fields)
        unknown = sorted(
            key
            for key in os.environ
            if key.upper().startswith(_ENV_PREFIX) and key[len(_ENV_PREFIX) :].split("__")[0].lower() not in known
        )
        if unknown:
            raise ValueError(f"unknown router setting(s) in the environment: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _no_development_secret_in_production(self) -> RouterSettings:
        secret = self.authentication.hs256_secret
        if self.production and secret is not None and secret.get_secret_value() in DEVELOPMENT_SECRETS:
            raise ValueError("SETRUM_ENV=production but authentication.hs256_secret is a development secret")
        return self

    @property
    def header_limits(self) -> HeaderLimits:
        return HeaderLimits(self.max_request_head_bytes, self.max_header_bytes)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.production

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.production
