"""Business metrics of the transactions subgraph, on the app's own Prometheus registry.

Counted after the database transaction that made the change has committed, and only when the
change really happened (a replayed top-up or a second refund attempt counts nothing), so the
counters agree with the ledger. They are per process: sum them across replicas in Prometheus.
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge

from .models import LedgerKind, ManagementTokenKind, PurchaseStatus

__all__ = ["NOTIFICATION_OUTCOMES", "NOTIFICATION_REFUSALS", "REVIEW_REASONS", "TransactionMetrics"]

REVIEW_REASONS = ("BILLER_DUPLICATE_REFERENCE", "UNSETTLED")
NOTIFICATION_OUTCOMES = ("credited", "duplicate")
NOTIFICATION_REFUSALS = (
    "unsigned",
    "bad_signature",
    "stale",
    "malformed",
    "replayed",
    "unknown_intent",
    "amount_mismatch",
    "expired",
    "cancelled",
    "already_paid",
    "conflict",
)


class TransactionMetrics:
    """``setrum_purchases_total{status}``, ``setrum_wallet_ledger_amount_rupiah_total{kind}``,
    ``setrum_management_tokens_total{kind}`` and ``setrum_purchases_needing_review_total{reason}``
    (alert on any increase). Without a registry they go to a private one."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.purchases = Counter(
            "setrum_purchases_total",
            "Purchases that reached a status (PENDING when created, then SUCCESS, FAILED or REFUNDED)",
            ["status"],
            registry=self.registry,
        )
        self.ledger_amount = Counter(
            "setrum_wallet_ledger_amount_rupiah_total",
            "Rupiah booked to wallet ledgers, by entry kind (absolute amounts; debits count positive)",
            ["kind"],
            registry=self.registry,
        )
        self.management_tokens = Counter(
            "setrum_management_tokens_total",
            "STS management tokens issued through the admin API, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.needing_review = Counter(
            "setrum_purchases_needing_review_total",
            "Purchases left PENDING that only an operator can settle (e.g. the biller holds something else "
            "under our reference); alert on any increase",
            ["reason"],
            registry=self.registry,
        )
        self.in_review = Gauge(
            "setrum_purchases_in_review",
            "Purchases in REVIEW (money held) as the settlement worker last counted them; alert when above 0",
            registry=self.registry,
        )
        self.status_watches = Gauge(
            "setrum_purchase_status_subscriptions",
            "purchaseStatus subscriptions this replica is serving now (each reads its purchase every poll interval)",
            registry=self.registry,
        )
        self.settled_by_worker = Counter(
            "setrum_purchases_settled_by_worker_total",
            "PENDING purchases the settlement worker brought to SUCCESS or FAILED",
            registry=self.registry,
        )
        self.notifications_accepted = Counter(
            "setrum_payment_notifications_accepted_total",
            "Payment notifications from the provider taken: credited, or a duplicate of one credited before",
            ["outcome"],
            registry=self.registry,
        )
        self.notifications_refused = Counter(
            "setrum_payment_notifications_refused_total",
            "Payment notifications refused, by reason (a forged, replayed or late one; alert on any increase)",
            ["reason"],
            registry=self.registry,
        )
        # Every series exists from the start, so rate() works before the first event.
        for outcome in NOTIFICATION_OUTCOMES:
            self.notifications_accepted.labels(outcome)
        for refusal in NOTIFICATION_REFUSALS:
            self.notifications_refused.labels(refusal)
        for status in PurchaseStatus:
            self.purchases.labels(status.value)
        for kind in LedgerKind:
            self.ledger_amount.labels(kind.value)
        for management in ManagementTokenKind:
            self.management_tokens.labels(management.value)
        for reason in REVIEW_REASONS:
            self.needing_review.labels(reason)

    def purchase_reached(self, status: PurchaseStatus) -> None:
        self.purchases.labels(status.value).inc()

    def ledger_booked(self, kind: LedgerKind, amount: Decimal) -> None:
        # Prometheus samples are floats; exact money lives in the ledger, this is for dashboards.
        self.ledger_amount.labels(kind.value).inc(float(abs(amount)))

    def management_token_issued(self, kind: ManagementTokenKind) -> None:
        self.management_tokens.labels(kind.value).inc()

    def purchase_needs_review(self, reason: str) -> None:
        self.needing_review.labels(reason).inc()

    def set_in_review(self, count: int) -> None:
        self.in_review.set(count)

    def purchase_settled_by_worker(self) -> None:
        self.settled_by_worker.inc()

    def payment_notification_accepted(self, outcome: str) -> None:
        self.notifications_accepted.labels(outcome).inc()

    def payment_notification_refused(self, reason: str) -> None:
        self.notifications_refused.labels(reason).inc()
