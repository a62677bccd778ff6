"""Overload admission: the router's adaptive concurrency limit (see :mod:`setrum_common.overload`).

Unlike the other layers it wraps the ASGI app, outside Starlette's routing and the whole pipeline,
as Apollo Router sheds load in its outermost service: in a storm most requests are refused, and a
refusal that first verified a token, decoded JSON and walked eight layers cost the router 2.5 times
what the refusal itself does (py-spy, 2,300 refusals/s on one core). The operation text is still
read, raw, so a purchase or a sign-in (which go first) is told from a heavy read; a refused request
is answered at once with 503, ``Retry-After`` and a GraphQL error coded ``OVERLOADED``.

The router also publishes its :class:`~setrum_common.overload.Admission` as ``app.state.admission``:
while the limit is pressed, the HTTP server refuses what it would refuse at once before an ASGI task
exists (:mod:`setrum_common.http_server`): a refusal then costs about 50 µs of CPU instead of 75.
"""

from __future__ import annotations

from starlette.middleware import Middleware

from router.http.routes import GRAPHQL_PATH
from router.settings import RouterSettings
from setrum_common.overload import AdaptiveLimiter, Admission, OverloadMiddleware, limiter_metrics, overloaded_body

from .telemetry import RouterMetrics

__all__ = ["overload_admission", "overload_middleware"]

_REFUSED = overloaded_body("The router is overloaded; retry shortly")


def overload_admission(settings: RouterSettings, metrics: RouterMetrics | None = None) -> Admission | None:
    """The router's admission to ``/graphql`` (None when the limit is switched off). Bodies over the
    large-body threshold pass: the large-body gate bounds them, and this must not read them first."""
    if not settings.overload.enabled:
        return None
    limits = settings.limits
    counter = metrics.requests_by("anonymous", "overloaded") if metrics is not None else None
    limiter = AdaptiveLimiter(settings.overload.options())
    if metrics is not None:
        limiter_metrics(limiter, metrics.registry)
    return Admission(
        limiter=limiter,
        paths=frozenset({GRAPHQL_PATH}),
        pass_through_bytes=limits.large_body_bytes or limits.max_body_bytes,
        refusal=_REFUSED,
        on_refused=counter.inc if counter is not None else None,
        refusal_delay_s=settings.overload.refusal_delay_s,
        cross_origin_through_app=bool(settings.cors.origins or settings.cors.match_origins),
    )


def overload_middleware(admission: Admission | None) -> list[Middleware]:
    """The admission middleware (none when the limit is switched off)."""
    return [] if admission is None else [Middleware(OverloadMiddleware, admission=admission)]
