"""Alembic environment of the master subgraph: the shared runner with this service's tables."""

from alembic import context

from setrum_common.migrations import run_env
from subgraphs.master.models import MasterBase

run_env(context, MasterBase.metadata)
