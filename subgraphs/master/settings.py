"""Settings of the master subgraph (environment prefix ``MASTER_``, port 4002)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from setrum_common.demo_data import DEFAULT_CHANNEL
from setrum_common.settings import ServiceSettings

__all__ = ["MasterSettings", "get_settings"]


class MasterSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MASTER_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite+aiosqlite:///./data/master.db"
    port: int = 4002
    # The channel a quote is priced for when the caller names none.
    default_channel: str = DEFAULT_CHANNEL
    # Where public quotes ask for the month's kWh, instalments paid and key changes due.
    transactions_url: str = "http://127.0.0.1:4003"
    transactions_timeout_s: float = 3.0


@lru_cache(maxsize=1)
def get_settings() -> MasterSettings:
    return MasterSettings()
