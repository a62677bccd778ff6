"""OpenTelemetry tracing with W3C ``traceparent`` propagation, off unless configured.

Propagation works even with tracing off: the incoming ``traceparent`` becomes the current
context and outgoing httpx requests carry it on, so a trace id chosen by a client or an edge
proxy reaches every service. Exporting spans needs ``SETRUM_OTEL_EXPORTER=console`` (stderr)
or ``otlp`` (needs the ``opentelemetry-exporter-otlp-proto-http`` package and
``OTEL_EXPORTER_OTLP_ENDPOINT``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context

__all__ = [
    "configure_tracing",
    "extract_context",
    "inject_headers",
    "httpx_event_hooks",
    "span",
    "tracer",
]

logger = logging.getLogger("setrum.tracing")
_configured = False


def configure_tracing(service_name: str, exporter: str | None = None) -> None:
    """Install a tracer provider once per process, if an exporter is configured."""
    global _configured
    exporter = (exporter if exporter is not None else os.environ.get("SETRUM_OTEL_EXPORTER", "none")).lower()
    if _configured or exporter in ("", "none"):
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            logger.error("SETRUM_OTEL_EXPORTER=otlp needs the opentelemetry-exporter-otlp-proto-http package")
            return
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        raise ValueError(f"unknown SETRUM_OTEL_EXPORTER {exporter!r} (none, console, otlp)")
    trace.set_tracer_provider(provider)
    _configured = True


def span(
    tracer: trace.Tracer, name: str, kind: trace.SpanKind, attributes: Mapping[str, Any]
) -> AbstractContextManager[trace.Span | None]:
    """``tracer.start_as_current_span(...)`` when spans are exported, else a context that yields
    None and costs nothing. Hot paths skip the no-op span on purpose: it carries its parent's
    context unchanged, so the ``traceparent`` propagated is the same without it."""
    if not _configured:
        return nullcontext()
    return tracer.start_as_current_span(name, kind=kind, attributes=attributes)


def tracer(name: str = "setrum") -> trace.Tracer:
    return trace.get_tracer(name)


def extract_context(headers: Mapping[str, str]) -> Context:
    return propagate.extract(headers)


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Add ``traceparent``/``tracestate`` for the current span to ``headers``."""
    propagate.inject(headers)
    return headers


async def _inject_hook(request: Any) -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    for key, value in carrier.items():
        request.headers[key] = value


def httpx_event_hooks() -> dict[str, list[Any]]:
    """``httpx.AsyncClient(event_hooks=httpx_event_hooks())`` propagates the current trace."""
    return {"request": [_inject_hook]}
