"""A router without ``ROUTER_SHARED_STORE__URL`` keeps its counters in memory and never loads SQLAlchemy (a third of
an idle router's memory); with the URL, the SQL store is there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BUILD = """
import sys
from router.app import create_app
from router.settings import RouterSettings
create_app(RouterSettings(supergraph="schema/supergraph.graphql"))
print("sqlalchemy" in sys.modules)
"""


def _loads_sqlalchemy(**env: str) -> bool:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_")}
    done = subprocess.run(
        [sys.executable, "-c", BUILD], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1] == "True"


def test_a_router_without_a_shared_store_does_not_load_sqlalchemy() -> None:
    assert not _loads_sqlalchemy()


def test_a_router_with_a_shared_store_opens_the_sql_store(tmp_path: Path) -> None:
    assert _loads_sqlalchemy(ROUTER_SHARED_STORE__URL=f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}")
