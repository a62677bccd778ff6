"""Alembic environment of the users subgraph: the shared runner with this service's tables."""

from alembic import context

from setrum_common.migrations import run_env
from subgraphs.users.models import UsersBase

run_env(context, UsersBase.metadata)
