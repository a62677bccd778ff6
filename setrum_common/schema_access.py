"""The authorization directives our subgraphs put on root fields, enforced by the router before planning
(docs/router.md §8 Authorization): what a caller may not see is never fetched and comes back null with
``UNAUTHORIZED_FIELD_OR_TYPE``. The services' own checks (``Viewer.require_admin`` and the owner checks) stay
as the second line, for calls that do not come through the router.

``admin`` is a router policy (``ROUTER_AUTHORIZATION__POLICIES``; by default ``role == ADMIN``, the role users
puts in an administrator's token).
"""

from __future__ import annotations

from typing import Any

from strawberry.federation.schema_directives import Authenticated, Policy

__all__ = ["ADMIN_ONLY", "ADMIN_POLICY", "SIGNED_IN"]

ADMIN_POLICY = "admin"
ADMIN_ONLY: list[Any] = [Policy(policies=[[ADMIN_POLICY]])]
SIGNED_IN: list[Any] = [Authenticated()]
