"""Settings shared by every service, and the rule that keeps development secrets out of production.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix`` (``USERS_``,
``MASTER_``…). The secrets every service must agree on are read from un-prefixed variables
(``SETRUM_JWT_SECRET``…) so one value configures the whole system. Each service's own key
(``SETRUM_SERVICE_KEY``) is set per process: see :mod:`setrum_common.trust.service_keys`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .fastpath import FASTPATH_DESCRIPTION, FastPathMode
from .http_limits import DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_REQUEST_HEAD_BYTES, HeaderLimits
from .trust.service_keys import ServiceKeyring, development_key_in_use, load_keyring

__all__ = [
    "DEV_JWT_SECRET",
    "DEV_PAYMENTS_SECRET",
    "DEVELOPMENT_SECRETS",
    "Environment",
    "SchemaMode",
    "ServiceSettings",
    "shared_field",
]

# Development-only defaults. A service in production mode refuses to start with any of them.
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789"
# The payment provider's own secret: it signs the provider's payment notifications (and our calls to it).
DEV_PAYMENTS_SECRET = "dev-only-payments-secret-change-me-0123456789"
DEVELOPMENT_SECRETS = frozenset({DEV_JWT_SECRET, DEV_PAYMENTS_SECRET})

Environment = Literal["development", "production"]
# How a service treats its database schema at start-up (see setrum_common.migrations):
# migrate = upgrade to the latest migration; check = refuse to start unless already there;
# create = ``metadata.create_all`` without migrations (throw-away test databases only).
SchemaMode = Literal["migrate", "check", "create"]


_T = TypeVar("_T")


def shared_field(env_name: str, default: _T, **kwargs: Any) -> _T:
    """A field read from one un-prefixed variable that all services share.

    Typed as its default, as pydantic's own ``Field`` is, so ``name: T = shared_field(...)`` type-checks."""
    field: _T = Field(default, validation_alias=AliasChoices(env_name), **kwargs)
    return field


HEAD_DESCRIPTION = "request line plus headers, larger is answered 431"
HEADER_DESCRIPTION = "one header line, larger is answered 431"


class ServiceSettings(BaseSettings):
    """Base for every service's settings. Subclasses set ``env_prefix`` and defaults."""

    model_config = SettingsConfigDict(env_prefix="SETRUM_", extra="ignore", populate_by_name=True)

    environment: Environment = shared_field("SETRUM_ENV", "development")
    jwt_secret: SecretStr = shared_field("SETRUM_JWT_SECRET", SecretStr(DEV_JWT_SECRET))
    service_key: SecretStr | None = shared_field(
        "SETRUM_SERVICE_KEY",
        None,
        description="this service's own Ed25519 private key (32-byte seed in base64url or base64, or PEM) signing "
        "its calls to other services; unset: a development key derived from the service's name (refused in production)",
    )
    service_public_keys: str | None = shared_field(
        "SETRUM_SERVICE_PUBLIC_KEYS",
        None,
        description='JSON {"service": "Ed25519 public key (base64url, base64 or PEM)"} of the services this one '
        "accepts calls from; unset: the development keys (refused in production)",
    )
    log_json: bool | None = shared_field("SETRUM_LOG_JSON", None)
    fastpath: FastPathMode = shared_field("SETRUM_FASTPATH", "on", description=FASTPATH_DESCRIPTION)
    max_request_head_bytes: int = shared_field(
        "SETRUM_MAX_REQUEST_HEAD_BYTES", DEFAULT_MAX_REQUEST_HEAD_BYTES, gt=0, description=HEAD_DESCRIPTION
    )
    max_header_bytes: int = shared_field(
        "SETRUM_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES, gt=0, description=HEADER_DESCRIPTION
    )
    users_url: str | None = shared_field(
        "SETRUM_USERS_URL",
        None,
        description="users service base URL; other services ask it whether a session was revoked",
    )
    session_cache_s: float = shared_field(
        "SETRUM_SESSION_CACHE_S", 5.0, ge=0, description="seconds a session check is cached per process"
    )
    router_public_keys: str | None = shared_field(
        "SETRUM_ROUTER_PUBLIC_KEYS",
        None,
        description="kid=<Ed25519 key, base64 or base64url>,...: routers whose signed GraphQL requests a subgraph "
        "answers; set, an unsigned one gets 401 (required in production)",
    )
    router_public_keys_file: Path | None = shared_field(
        "SETRUM_ROUTER_PUBLIC_KEYS_FILE", None, description="file holding the same (or a JSON {kid: key})"
    )
    router_signature_window_s: float = shared_field(
        "SETRUM_ROUTER_SIGNATURE_WINDOW_S", 30.0, gt=0, le=300, description="how old a router signature may be (s)"
    )

    database_url: str = "sqlite+aiosqlite:///./data/service.db"
    host: str = "127.0.0.1"
    port: int = 8000
    schema_mode: SchemaMode = Field(
        "migrate",
        description="migrate (upgrade at start-up), check (refuse an out-of-date schema) or create (tests only)",
    )
    seed_demo_data: bool = False
    shutdown_drain_s: float = Field(
        0.0, description="on SIGTERM, answer /ready 503 this long before refusing new connections"
    )
    shutdown_timeout_s: float = Field(30.0, description="on SIGTERM, how long requests in flight may still take")
    workers: int = Field(
        1, ge=1, description="processes serving the port; SIGTERM to the parent drains each (setrum_common/workers.py)"
    )
    overload_max_concurrency: int = Field(
        512, description="ceiling of the adaptive concurrency limit (0: no limit); see setrum_common/overload.py"
    )
    overload_queue_timeout_s: float = Field(
        0.25,
        description="the queue over the limit holds what drains in this time; the rest is refused with 503 at once",
    )
    overload_tolerance: float | None = Field(
        None,
        gt=1.0,
        description="how many times its baseline latency a request may take before the limit shrinks "
        "(unset: 2; transactions on PostgreSQL 3)",
    )
    overload_probe_interval_s: float = Field(
        20.0,
        description="while the limit is in use, re-measure the latency without a queue this often (0: never)",
    )
    request_deadline_s: float = Field(
        10.0, description="how long a caller waits when it sends no x-setrum-deadline-ms header"
    )

    # A service whose own time grows with the PostgreSQL backends sharing its cores (not with its own
    # queue) sets more: at 2, transactions on PostgreSQL held 6-8 purchases in flight with a core idle.
    postgres_overload_tolerance: ClassVar[float] = 2.0

    @property
    def limiter_tolerance(self) -> float:
        """The overload limit's tolerance: as set, else 2 on SQLite and the service's figure on PostgreSQL."""
        if self.overload_tolerance is not None:
            return self.overload_tolerance
        return 2.0 if self.database_url.startswith("sqlite") else self.postgres_overload_tolerance

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def header_limits(self) -> HeaderLimits:
        return HeaderLimits(self.max_request_head_bytes, self.max_header_bytes)

    @property
    def json_logs(self) -> bool:
        return self.is_production if self.log_json is None else self.log_json

    def secret_values(self) -> list[str]:
        """Every shared secret this service holds, for the production check (its own key has its own rule)."""
        return [
            value.get_secret_value()
            for name, value in self.__dict__.items()
            if isinstance(value, SecretStr) and name != "service_key"
        ]

    def service_keyring(self, service: str) -> ServiceKeyring:
        """``service``'s own signing key and the public keys of the services it accepts calls from."""
        own = None if self.service_key is None else self.service_key.get_secret_value()
        return load_keyring(service, own, self.service_public_keys)

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> ServiceSettings:
        if self.is_production:
            weak = [s for s in self.secret_values() if s in DEVELOPMENT_SECRETS or len(s) < 32]
            if weak:
                raise ValueError(
                    "SETRUM_ENV=production but a development or short (<32 chars) secret is configured; "
                    "set SETRUM_JWT_SECRET and SETRUM_PAYMENTS_SECRET"
                )
            own = None if self.service_key is None else self.service_key.get_secret_value()
            problem = development_key_in_use(own, self.service_public_keys)
            if problem is not None:
                raise ValueError(f"SETRUM_ENV=production: {problem} (python -m setrum keys prints real ones)")
            if self.schema_mode == "create":
                raise ValueError("SETRUM_ENV=production needs schema_mode migrate or check, not create")
        return self
