"""Alembic environment of the biller: the shared runner with this service's tables."""

from alembic import context

from biller.models import BillerBase
from setrum_common.migrations import run_env

run_env(context, BillerBase.metadata)
