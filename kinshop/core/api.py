"""What every router shares: the error format and pagination (authentication is
`kinshop.accounts.auth`).

Errors always answer `{"code": "<snake_case>", "message": "<human text>"}` with a
4xx status, whatever raised them: a service's DomainError, a malformed body, a
failed schema validation, a missing object or a refused authentication.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kinshop.core.errors import DomainError


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any] | None = None


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers an operation documents. Every operation may answer 400
    (a body that is not JSON, a NUL byte) and 422 (a path, query or body that
    does not fit its schema), so those are always listed."""
    return dict.fromkeys(sorted({400, 422, *statuses}), ErrorOut)


T = TypeVar("T")


class Page(Schema, Generic[T]):
    items: list[T]
    count: int


class PageParams(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


def paginate(queryset: QuerySet, params: PageParams, serialise: Callable[[Any], Any]) -> dict:
    count = queryset.count()
    rows = list(queryset[params.offset : params.offset + params.limit])
    return {"items": [serialise(row) for row in rows], "count": count}


def _respond(api: NinjaAPI, request, status: int, code: str, message: str, details=None):
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return api.create_response(request, body, status=status)


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return _respond(api, request, exc.status, exc.code, exc.message, exc.details or None)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = []
        for error in exc.errors:
            location = ".".join(str(part) for part in error.get("loc", ()))
            problems.append({"field": location, "problem": error.get("msg", "invalid")})
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        return _respond(
            api,
            request,
            422,
            "invalid_input",
            f"The request is not valid: {summary}",
            {"errors": problems},
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _respond(api, request, 401, "not_authenticated", "Sign in first.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            return _respond(
                api, request, 400, "malformed_body", "The request body is not valid JSON."
            )
        if exc.status_code == 403 and "CSRF" in str(exc):
            return _respond(api, request, 403, "csrf_failed", "The CSRF check failed.")
        return _respond(api, request, exc.status_code, "http_error", str(exc))

    @api.exception_handler(IntegrityError)
    def integrity_error(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # Two requests raced to create the same unique thing (a handle, a
        # username, a SKU code); the loser's transaction is already rolled back.
        return _respond(
            api,
            request,
            409,
            "conflict",
            "This conflicts with a change made at the same moment; retry.",
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _respond(api, request, 404, "not_found", "Not found.")
