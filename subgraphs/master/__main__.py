"""``python -m subgraphs.master [--print-sdl] [--host H] [--port P] [--seed]``"""

from setrum_common.service_app import service_main

from .app import create_app
from .schema import schema
from .settings import get_settings

raise SystemExit(service_main(name="master", schema=schema, settings_factory=get_settings, app_factory=create_app))
