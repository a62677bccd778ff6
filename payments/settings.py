"""Settings of the payment provider stand-in (prefix ``PAYMENTS_``).

``SETRUM_PAYMENTS_SECRET`` is the provider's own secret, shared with the merchant (transactions) only:
the merchant signs its API calls with it and the provider signs its payment notifications with it.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from setrum_common.settings import DEV_PAYMENTS_SECRET, ServiceSettings, shared_field

__all__ = ["PaymentsSettings"]


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAYMENTS_", extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    database_url: str = "sqlite+aiosqlite:///./data/payments.db"
    port: int = 4020

    payments_secret: SecretStr = shared_field("SETRUM_PAYMENTS_SECRET", SecretStr(DEV_PAYMENTS_SECRET))
    notify_url: str = Field(
        "http://127.0.0.1:4003/internal/payments/notify",
        description="where payment notifications are POSTed (transactions' internal route)",
    )
    va_ttl_s: int = Field(86_400, gt=0, description="how long a virtual account waits for its payment")
    qris_ttl_s: int = Field(900, gt=0, description="how long a QRIS code waits for its payment")
    simulator: bool | None = Field(
        None,
        description="the pay command and /pay page that stand in for a customer's bank "
        "(default: on in development, off in production)",
    )
    notify_interval_s: float = Field(0.5, gt=0, description="how often undelivered notifications are looked for")
    notify_timeout_s: float = Field(10.0, gt=0, description="how long one notification delivery may take")
    notify_backoff_max_s: float = Field(60.0, gt=0, description="longest wait between two deliveries of one payment")

    @property
    def simulator_enabled(self) -> bool:
        return (not self.is_production) if self.simulator is None else self.simulator
