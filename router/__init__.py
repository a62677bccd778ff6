"""Setrum's Apollo Federation v2 router.

Import from the submodule that owns a thing (Starlette style): ``router.app.create_app``,
``router.settings.RouterSettings``, ``router.gateway.Gateway``, ``router.pipeline``.
"""

__version__ = "0.1.0"
