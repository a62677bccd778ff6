"""Settings of the users subgraph (env prefix ``USERS_``; shared secrets from ``SETRUM_*``)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from setrum_common.client_ip import DEFAULT_TRUSTED_PROXIES, Network, parse_networks
from setrum_common.settings import ServiceSettings

__all__ = ["UsersSettings", "get_settings"]


class UsersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="USERS_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite+aiosqlite:///./data/users.db"
    port: int = 4001

    token_ttl_minutes: int = Field(720, ge=1)
    # argon2id cost parameters (argon2-cffi's defaults). Raising them makes sign-in rehash
    # stored passwords on the next successful sign-in; tests lower them for speed.
    password_time_cost: int = Field(3, ge=1)
    password_memory_kib: int = Field(65536, ge=8)
    password_parallelism: int = Field(4, ge=1)
    # How many hashes may run at once (each takes password_memory_kib); default one per CPU.
    password_hash_concurrency: int | None = Field(None, ge=1)
    password_queue_max_waiting: int | None = Field(
        None, ge=0, description="hashes that may wait for a thread (default twice the concurrency); more: OVERLOADED"
    )
    password_queue_per_client: int = Field(
        4, ge=1, description="hashes one client address may have running or waiting; more: RATE_LIMITED"
    )
    password_queue_wait_s: float = Field(
        2.0, gt=0, description="longest wait for a hashing thread before the sign-in is refused (OVERLOADED)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TRUSTED_PROXIES),
        description="networks of the router(s) whose x-setrum-client-ip header is believed",
    )
    # Sign-in throttling per (email, client address), shared by all replicas through the database.
    signin_max_failures: int = Field(
        5, ge=1, description="failed sign-ins per email and client address within the window before it is refused"
    )
    signin_window_s: int = Field(
        900, ge=1, description="throttling window in seconds, counted from the first failed attempt"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        parse_networks(values)  # a typo fails at start-up
        return values

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    token_signing_key: SecretStr | None = Field(
        None, description="RS256/EdDSA private key (PEM) for customer tokens; unset: HS256 with SETRUM_JWT_SECRET"
    )
    token_signing_key_file: Path | None = Field(None, description="file holding the same")
    token_signing_key_id: str = Field("users-1", description="kid of the signing key, published in the JWKS")
    token_published_keys_file: Path | None = Field(
        None, description="JWKS of other public keys to keep publishing (key rotation)"
    )

    @model_validator(mode="after")
    def _one_signing_key(self) -> UsersSettings:
        if self.token_signing_key is not None and self.token_signing_key_file is not None:
            raise ValueError("give USERS_TOKEN_SIGNING_KEY or USERS_TOKEN_SIGNING_KEY_FILE, not both")
        return self

    @property
    def signin_window(self) -> timedelta:
        return timedelta(seconds=self.signin_window_s)

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(minutes=self.token_ttl_minutes)


@lru_cache(maxsize=1)
def get_settings() -> UsersSettings:
    return UsersSettings()
