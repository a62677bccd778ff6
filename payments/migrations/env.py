"""Alembic environment of the payment provider: the shared runner with this service's tables."""

from alembic import context

from payments.models import PaymentsBase
from setrum_common.migrations import run_env

run_env(context, PaymentsBase.metadata)
