"""Alembic environment of the transactions subgraph: the shared runner with this service's tables."""

from alembic import context

from setrum_common.migrations import run_env
from subgraphs.transactions.models import TransactionsBase

run_env(context, TransactionsBase.metadata)
