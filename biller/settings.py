"""Biller settings (prefix ``BILLER_``), including where the STS vending key comes from.

The vending key turns the public meter register into tokens for any meter, so it is the one
real secret here. It is read from ``SETRUM_STS_VENDING_KEY`` or from the file named by
``BILLER_VENDING_KEY_FILE``; it is never stored in the database, logged or returned. Without
either, a clearly marked development key is used, which production mode refuses.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from setrum_common.settings import ServiceSettings, shared_field
from sts.keys import parse_vending_key

__all__ = ["DEV_VENDING_KEY", "BillerSettings", "VendingKeyError"]

# DEVELOPMENT ONLY. Anyone can make tokens with this key; production refuses it.
DEV_VENDING_KEY = "DE0DE0DE0DE0DE01"


class VendingKeyError(ValueError):
    """The vending key is missing, malformed, unreadable or the development key in production."""


class BillerSettings(ServiceSettings):
    # hide_input_in_errors: a validation error must never print the environment (the key is in it).
    model_config = SettingsConfigDict(
        env_prefix="BILLER_", extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    database_url: str = "sqlite+aiosqlite:///./data/biller.db"
    port: int = 4010
    # The biller owns the meter register; load the demo meters unless told otherwise.
    seed_demo_data: bool = True

    vending_key: SecretStr | None = shared_field("SETRUM_STS_VENDING_KEY", None)
    vending_key_file: Path | None = None

    # How long the "timeout" fault sleeps before answering: longer than any client timeout.
    timeout_fault_seconds: float = 90.0
    # Largest "delay" fault accepted, so a typo cannot hang the biller for hours.
    max_fault_delay_ms: int = 600_000
    faults_enabled: bool = Field(
        default=False,
        description="the fault switches (PUT/DELETE /v1/faults) exist only when true (tests; refused in production)",
    )

    def secret_values(self) -> list[str]:
        # The vending key (16 hex digits) has its own production rule below; the base class'
        # "32 characters" rule is for HMAC secrets.
        return [self.jwt_secret.get_secret_value()]

    def vending_key_bytes(self) -> bytes:
        """The 8-byte vending key, from the variable, else the file, else the development key."""
        if self.vending_key is not None:
            source, text = "SETRUM_STS_VENDING_KEY", self.vending_key.get_secret_value()
        elif self.vending_key_file is not None:
            source = "BILLER_VENDING_KEY_FILE"
            try:
                text = self.vending_key_file.read_text()
            except OSError as exc:
                raise VendingKeyError(f"cannot read the vending key file: {exc.strerror}") from None
        else:
            source, text = "development default", DEV_VENDING_KEY
        try:
            return parse_vending_key(text)
        except ValueError:
            # Never echo the value: it may be a real key with a typo.
            raise VendingKeyError(f"the vending key from {source} is not 16 hexadecimal digits") from None

    @property
    def uses_development_vending_key(self) -> bool:
        return self.vending_key_bytes() == parse_vending_key(DEV_VENDING_KEY)

    @model_validator(mode="after")
    def _check_vending_key(self) -> BillerSettings:
        self.vending_key_bytes()  # fail fast on a malformed or unreadable key
        if self.is_production and self.faults_enabled:
            raise ValueError("SETRUM_ENV=production but BILLER_FAULTS_ENABLED is set; fault switches are for tests")
        if self.is_production and self.uses_development_vending_key:
            raise VendingKeyError(
                "SETRUM_ENV=production but the development STS vending key is in use; "
                "set SETRUM_STS_VENDING_KEY or BILLER_VENDING_KEY_FILE"
            )
        return self
