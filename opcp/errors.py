"""OPCP API errors.

Every error a service answers maps to the spec's Error body
``{"errorMessages": [...], "traceId": "<uuid>"}`` and one HTTP status. Domain code raises
these; the reference's error middleware renders them, so a handler never builds an error
response itself.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 500

    def __init__(self, *messages: str, headers: dict[str, str] | None = None):
        super().__init__("; ".join(messages))
        self.messages = list(messages) or [self.default_message]
        self.headers = headers or {}

    default_message = "internal error"


class BadRequest(ApiError):
    status = 400
    default_message = "bad request"


class Unauthorized(ApiError):
    status = 401
    default_message = "authentication required"


class Forbidden(ApiError):
    status = 403
    default_message = "access denied"


class NotFound(ApiError):
    status = 404
    default_message = "not found"


class Conflict(ApiError):
    status = 409
    default_message = "conflict"


class NotImplementedYet(ApiError):
    status = 501
    default_message = "operation not implemented by this reference version"


class OAuthError(ApiError):
    """A token endpoint error: RFC 6749 section 5.2 `error` code plus the Error body."""

    def __init__(self, status: int, code: str, description: str,
                 headers: dict[str, str] | None = None):
        super().__init__(description, headers=headers)
        self.status = status
        self.code = code
