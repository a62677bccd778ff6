"""Settings of the transactions subgraph (env prefix ``TRANSACTIONS_``)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from setrum_common.settings import DEV_BILLER_SECRET, ServiceSettings, shared_field

__all__ = ["Settings", "MAX_TOP_UP", "SERVICE_NAME"]

SERVICE_NAME = "transactions"
MAX_TOP_UP = 50_000_000  # whole rupiah per top-up


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRANSACTIONS_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite+aiosqlite:///./data/transactions.db"
    port: int = 4003

    master_url: str = "http://127.0.0.1:4002/graphql"
    master_timeout_s: float = 10.0
    biller_url: str = "http://127.0.0.1:4010"
    biller_timeout_s: float = 10.0
    # Shared with the biller: every request we send it is HMAC-signed with this.
    biller_secret: SecretStr = shared_field(
        "SETRUM_BILLER_SECRET", SecretStr(DEV_BILLER_SECRET)
    )
    # Reading a purchase that has been PENDING for longer than this re-asks the biller (0: never).
    pending_refresh_after_s: float = 5.0
    channel: str = "setrum-app"
