"""Alembic environment of the master subgraph: the shared runner with this service's tables."""

from alembic import context

from subgraphs.master.models import Base
from setrum_common.migrations import run_env

run_env(context, Base.metadata)
