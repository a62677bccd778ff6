"""What the purchase flow needs besides the database; one instance lives for the whole process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..clients import BillerClient, MasterClient, PaymentsClient
from ..metrics import TransactionMetrics
from ..settings import TransactionsSettings

__all__ = ["Services"]


@dataclass
class Services:
    """What the purchase flow needs besides the database; lives for the whole process."""

    settings: TransactionsSettings
    master: MasterClient
    biller: BillerClient
    payments: PaymentsClient
    # The app puts its observability registry here (see app.create_app); tests may leave the default.
    metrics: TransactionMetrics = field(default_factory=TransactionMetrics)
    # Purchases this process is asking the biller about right now; set when the answer is stored.
    in_flight: dict[str, asyncio.Event] = field(default_factory=dict)

    async def aclose(self) -> None:
        await self.master.aclose()
        await self.biller.aclose()
        await self.payments.aclose()
