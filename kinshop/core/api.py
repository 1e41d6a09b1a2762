"""What every router shares: authentication, the error format and pagination.

Errors always answer `{"code": "<snake_case>", "message": "<human text>"}` with a
4xx status, whatever raised them: a service's DomainError, a malformed body, a
failed schema validation, a missing object or a refused authentication.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from kinshop.core.errors import DomainError, NotAuthenticated


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


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        from kinshop.accounts.services import user_for_token

        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class BrowserSessionAuth(SessionAuth):
    """The browser session, with Django's CSRF check on unsafe methods.

    The check runs only for a signed-in session: a caller with neither a session
    nor a valid token is told 401 (sign in), not 403 csrf_failed."""

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)


AUTH = [BearerTokenAuth(), BrowserSessionAuth(csrf=True)]


def optional_user(request: HttpRequest):
    """The caller on a public endpoint: a bearer token, a session, or anonymous."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        from kinshop.accounts.services import user_for_token

        user = user_for_token(header[7:].strip())
        if user is None:
            raise NotAuthenticated("This token is not valid.", code="invalid_token")
        request.user = user
        return user
    user = getattr(request, "user", None)
    return user if user is not None else AnonymousUser()


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
