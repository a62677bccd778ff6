from setrum_common.service_app import service_main
from subgraphs.users.app import create_app
from subgraphs.users.schema import schema
from subgraphs.users.settings import UsersSettings

raise SystemExit(service_main(name="users", schema=schema, settings_factory=UsersSettings, app_factory=create_app))
