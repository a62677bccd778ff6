"""HTTP clients for the services a purchase needs: master (binding quote) and the biller (token)."""

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

__all__ = [
    "BillerClient",
    "BillerError",
    "BillerMaintenance",
    "BillerOutcome",
    "BillerRejected",
    "BillerUnavailable",
    "ManagementTokenAnswer",
    "MasterClient",
]
