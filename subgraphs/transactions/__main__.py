"""``python -m subgraphs.transactions [--print-sdl] [--host H] [--port P] [--seed]``"""

from setrum_common.service_app import service_main

from .app import create_app
from .schema import schema
from .settings import TransactionsSettings

raise SystemExit(
    service_main(name="transactions", schema=schema, settings_factory=TransactionsSettings, app_factory=create_app)
)
