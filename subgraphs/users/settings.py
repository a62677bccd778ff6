"""Settings of the users subgraph (env prefix ``USERS_``; shared secrets from ``SETRUM_*``)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

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
    # Sign-in throttling per email, shared by all replicas through the database.
    signin_max_failures: int = Field(
        5, ge=1, description="failed sign-ins per email within the window before sign-in is refused"
    )
    signin_window_s: int = Field(
        900, ge=1, description="throttling window in seconds, counted from the first failed attempt"
    )

    @property
    def signin_window(self) -> timedelta:
        return timedelta(seconds=self.signin_window_s)

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(minutes=self.token_ttl_minutes)


@lru_cache(maxsize=1)
def get_settings() -> UsersSettings:
    return UsersSettings()
