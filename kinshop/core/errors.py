"""Domain errors: what went wrong, in a stable snake_case code, and the HTTP
status an entry point should answer with. Services raise these; the API and the
web views turn them into `{"code", "message"}` answers, never a 500."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_attempts"
