"""HTTP-level request errors: the request never became a GraphQL operation.

    HttpRequestError (4xx, always a GraphQL ``errors`` body with ``extensions.code``)
    ├── BadRequest            400  malformed JSON, missing query, non-object variables...
    ├── MethodNotAllowed      405  not GET/POST (``Allow: GET, POST``)
    ├── NotAcceptable         406  neither GraphQL response media type is acceptable
    ├── PayloadTooLarge       413  body over ``limits.max_body_bytes``
    └── UnsupportedMediaType  415  POST body is not ``application/json``

GraphQL-level request errors (parse/validation/limits) are not exceptions: they are a
``RouterResponse`` with ``outcome="request_error"``, whose status depends on the media type.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadRequest",
    "HttpRequestError",
    "MethodNotAllowed",
    "NotAcceptable",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "graphql_error_body",
]


def graphql_error_body(message: str, code: str) -> dict[str, Any]:
    """A spec-shaped response carrying one error and no ``data``."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class HttpRequestError(Exception):
    status: int = 400
    code: str = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return graphql_error_body(self.message, self.code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class BadRequest(HttpRequestError):
    status = 400
    code = "BAD_REQUEST"


class MethodNotAllowed(HttpRequestError):
    status = 405
    code = "METHOD_NOT_ALLOWED"


class NotAcceptable(HttpRequestError):
    status = 406
    code = "NOT_ACCEPTABLE"


class PayloadTooLarge(HttpRequestError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(HttpRequestError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
