"""Domain errors that reach clients as GraphQL errors with a stable ``extensions.code``.

Raise :class:`DomainError` (or a subclass) from a resolver or service; graphql-core keeps a
``GraphQLError``'s extensions when it locates the error, so the code reaches the client as is.
Anything else that escapes a resolver is masked by :func:`mask_unexpected_errors`: the client
sees ``INTERNAL_SERVER_ERROR`` and a request id, the log gets the traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

__all__ = ["DomainError", "ErrorCode", "code_errors", "mask_unexpected_errors"]

logger = logging.getLogger("setrum.errors")


class ErrorCode:
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE_EMAIL = "DUPLICATE_EMAIL"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    WRONG_CUSTOMER_NUMBER = "WRONG_CUSTOMER_NUMBER"
    WRONG_DIGIT_COUNT = "WRONG_DIGIT_COUNT"
    WRONG_CHECK_DIGIT = "WRONG_CHECK_DIGIT"
    AMOUNT_NOT_DIGITS = "AMOUNT_NOT_DIGITS"
    AMOUNT_NOT_WHOLE_RUPIAH = "AMOUNT_NOT_WHOLE_RUPIAH"
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    CUSTOMER_BLOCKED = "CUSTOMER_BLOCKED"
    KWH_LIMIT_EXCEEDED = "KWH_LIMIT_EXCEEDED"
    BILLER_TIMEOUT = "BILLER_TIMEOUT"
    BILLER_MAINTENANCE = "BILLER_MAINTENANCE"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"
    DUPLICATE_REFERENCE = "DUPLICATE_REFERENCE"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    KEY_CHANGE_REQUIRED = "KEY_CHANGE_REQUIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    RATE_LIMITED = "RATE_LIMITED"
    OVERLOADED = "OVERLOADED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # Wallet money comes from payments: a customer's topUpWallet outside development.
    TOP_UP_REQUIRES_PAYMENT = "TOP_UP_REQUIRES_PAYMENT"
    PAYMENT_PROVIDER_UNAVAILABLE = "PAYMENT_PROVIDER_UNAVAILABLE"
    TOP_UP_ALREADY_PAID = "TOP_UP_ALREADY_PAID"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class DomainError(GraphQLError):
    """A business-rule failure the client can act on."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})
        self.code = code


def mask_unexpected_errors(errors: list[GraphQLError], request_id: str | None = None) -> list[GraphQLError]:
    """Replace errors that carry an unexpected exception with a generic, coded one."""
    masked: list[GraphQLError] = []
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            if not (error.extensions or {}).get("code") and original is None:
                # graphql-core validation/parse errors: give them a code too.
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
            masked.append(error)
            continue
        logger.error(
            "unexpected error in resolver at %s (request %s)",
            error.path,
            request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        extensions: dict[str, Any] = {"code": ErrorCode.INTERNAL_SERVER_ERROR}
        if request_id:
            extensions["requestId"] = request_id
        masked.append(
            GraphQLError(
                "Internal server error",
                nodes=error.nodes,
                path=error.path,
                extensions=extensions,
            )
        )
    return masked


def code_errors(errors: list[GraphQLError], request_id: str | None) -> list[GraphQLError]:
    """Every error leaves with ``extensions.code``: unexpected ones are masked; a variable that
    does not coerce is BAD_USER_INPUT; other graphql-core errors GRAPHQL_VALIDATION_FAILED."""
    for error in errors:
        ours = error.original_error is None or isinstance(error.original_error, GraphQLError)
        if ours and not (error.extensions or {}).get("code"):
            variable = error.message.startswith("Variable '$")
            error.extensions = {
                **(error.extensions or {}),
                "code": "BAD_USER_INPUT" if variable else "GRAPHQL_VALIDATION_FAILED",
            }
    return mask_unexpected_errors(errors, request_id)
