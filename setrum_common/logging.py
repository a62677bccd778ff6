"""Logging setup: readable lines in development, one JSON object per line in production."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson

__all__ = ["configure_logging"]

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(payload, default=str).decode()


class _ExpectedGraphQLErrors(logging.Filter):
    """Strawberry logs every resolver error with a traceback; business-rule errors (DomainError,
    validation) are answers, not faults, so only unexpected exceptions are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        from graphql import GraphQLError

        error = record.exc_info[1] if record.exc_info else None
        return error is not None and not isinstance(error, GraphQLError)


def configure_logging(service: str, *, json: bool, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    from .observability import RequestIdLogFilter

    handler.addFilter(RequestIdLogFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    strawberry_logger = logging.getLogger("strawberry.execution")
    if not any(isinstance(f, _ExpectedGraphQLErrors) for f in strawberry_logger.filters):
        strawberry_logger.addFilter(_ExpectedGraphQLErrors())
