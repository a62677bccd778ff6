"""Settings of the transactions subgraph (env prefix ``TRANSACTIONS_``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from setrum_common.settings import DEV_PAYMENTS_SECRET, ServiceSettings, shared_field

__all__ = ["TransactionsSettings", "MAX_TOP_UP", "SERVICE_NAME"]

SERVICE_NAME = "transactions"
MAX_TOP_UP = 50_000_000  # whole rupiah per top-up


class TransactionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRANSACTIONS_", extra="ignore", populate_by_name=True)

    # Measured in the storm bench, alternating: on PostgreSQL 3 sold more in every storm (10-107 %) and in the
    # closed loop (22-32 %), at no worse admitted p99; on SQLite, whose writers queue on one lock, 2 did as well.
    postgres_overload_tolerance: ClassVar[float] = 3.0

    database_url: str = "sqlite+aiosqlite:///./data/transactions.db"
    port: int = 4003

    master_url: str = "http://127.0.0.1:4002/graphql"
    master_timeout_s: float = 10.0
    biller_url: str = "http://127.0.0.1:4010"
    biller_timeout_s: float = 10.0
    payments_url: str = Field("http://127.0.0.1:4020", description="the payment provider (top-up intents)")
    payments_timeout_s: float = 10.0
    # The provider's own secret: our calls to it are signed with it, and its payment notifications too.
    payments_secret: SecretStr = shared_field("SETRUM_PAYMENTS_SECRET", SecretStr(DEV_PAYMENTS_SECRET))
    payment_notification_max_age_s: int = Field(
        300, gt=0, description="a payment notification signed longer ago than this is refused as stale"
    )
    deadline_margin_s: float = Field(
        0.5, description="kept from a request's deadline to answer (PENDING) after master or the biller timed out"
    )
    biller_breaker_failures: int = Field(5, description="biller failures in a row that open its circuit breaker")
    biller_breaker_cooldown_s: float = Field(5.0, description="how long an open breaker refuses before one trial call")
    # Reading a purchase that has been PENDING for longer than this re-asks the biller (0: never).
    pending_refresh_after_s: float = 5.0
    channel: str = "setrum-app"

    # The purchaseStatus subscription (subgraphs/transactions/service/watch.py) re-reads the purchase row.
    subscription_poll_interval_s: float = Field(
        0.5, gt=0, le=10, description="how often a purchaseStatus subscription reads its purchase again"
    )
    subscription_max_s: float = Field(
        900.0, gt=0, description="a purchaseStatus subscription still unsettled after this long completes"
    )

    # The settlement worker (subgraphs/transactions/settlement.py) settles PENDING purchases without a client read.
    settle_interval_s: float = Field(
        1.0, description="how often the settlement worker looks for due purchases (0: off)"
    )
    settle_first_after_s: float = Field(
        12.0, description="a new purchase belongs to its own request this long before the worker may settle it"
    )
    settle_backoff_max_s: float = Field(15.0, description="longest wait between two tries of one purchase")
    settle_batch: int = Field(32, description="purchases one worker claims (leases) per round")
    review_after_s: float = Field(
        900.0, description="a purchase still PENDING this long after it was made moves to REVIEW for an operator"
    )

    @property
    def settle_lease_s(self) -> float:
        """How long a claimed purchase is left to its worker: one biller exchange plus a margin."""
        return self.biller_timeout_s + 5.0

    @model_validator(mode="after")
    def _users_in_production(self) -> TransactionsSettings:
        if self.is_production and not self.users_url:
            raise ValueError(
                "SETRUM_ENV=production needs SETRUM_USERS_URL: revoked sessions and unknown subjects must be refused"
            )
        return self
