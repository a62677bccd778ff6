"""HTTP clients of the services transactions calls: master (binding quote), the biller (token), payments."""

from .biller_client import (
    BillerClient,
    BillerError,
    BillerMaintenance,
    BillerOutcome,
    BillerRejected,
    BillerUnavailable,
    ManagementTokenAnswer,
)
from .master_client import MasterClient
from .payments_client import PaymentsClient, PaymentsRefused, PaymentsUnavailable, ProviderIntent

__all__ = [
    "BillerClient",
    "BillerError",
    "BillerMaintenance",
    "BillerOutcome",
    "BillerRejected",
    "BillerUnavailable",
    "ManagementTokenAnswer",
    "MasterClient",
    "PaymentsClient",
    "PaymentsRefused",
    "PaymentsUnavailable",
    "ProviderIntent",
]
