"""How an API caller is known: a bearer token from `create_token`, or the
browser session with Django's CSRF check. Every router is mounted with `AUTH`;
public operations call `optional_user`.

Signing in with a password (the sign-in page, `create_token`, the admin's login)
goes through `sign_in`, which django-axes throttles: after
`AXES_FAILURE_LIMIT` failures for one username or one client address within
`AXES_COOLOFF_TIME`, every attempt is refused, the right password too, until
the window has passed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.security import HttpBearer, SessionAuth

from kinshop.accounts.models import User
from kinshop.accounts.services import token_for
from kinshop.core.errors import NotAuthenticated, TooManyRequests

MAX_USERNAME_LENGTH = 150


def too_many_attempts_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return f"Too many failed sign-ins: wait {minutes} minutes, then try again."


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        record = token_for(token)
        if record is None:
            return None
        request.user = record.user
        request.api_token = record  # type: ignore[attr-defined]
        return record.user


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
        record = token_for(header[7:].strip())
        if record is None:
            raise NotAuthenticated("This token is not valid.", code="invalid_token")
        request.user = record.user
        return record.user
    user = getattr(request, "user", None)
    return user if user is not None else AnonymousUser()


def sign_in(request: HttpRequest, *, username: str, password: str) -> User:
    """The user with this username and password, through Django's
    authentication (and so django-axes, which records failures and refuses
    attempts past the limit). Raises TooManyRequests when the attempt was
    refused for earlier failures, NotAuthenticated when the password is wrong;
    the failure that reaches the limit is still a wrong password, the next
    attempt is the refused one. Run it outside the request's transaction: a
    failure must stay recorded though the request answers an error."""
    # Usernames are unique regardless of case, and one signs in in any case.
    # (No username is longer than the column: a longer one is not looked up,
    # so it never reaches the database as a LIKE pattern.)
    username = username.strip()
    if len(username) <= MAX_USERNAME_LENGTH:
        stored = User.objects.filter(username__iexact=username).values_list("username", flat=True)
        username = stored.first() or username
    context: dict[str, Any] = {}
    user = authenticate(request, username=username, password=password, response_context=context)
    if user is not None:
        return user  # type: ignore[return-value]
    if "error" in context:  # axes refused before the password was checked
        request.sign_in_throttled = True  # type: ignore[attr-defined]
        raise TooManyRequests(too_many_attempts_message())
    raise NotAuthenticated("Wrong username or password.", code="invalid_credentials")


def client_address(request: HttpRequest) -> str:
    """The address sign-in failures are counted under. Behind
    KINSHOP_PROXY_COUNT proxies, the one the nearest of them saw (the proxies
    append to X-Forwarded-For: what lies to the left of them the client wrote
    itself and may be forged); without proxies, the connection's."""
    proxies = settings.KINSHOP_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies][:45]
    return str(request.META.get("REMOTE_ADDR") or "")[:45]


def throttled_username(request: HttpRequest, credentials: dict | None) -> str:
    """The username failures are counted under: as typed, trimmed, any case."""
    return str((credentials or {}).get("username") or "").strip().lower()[:MAX_USERNAME_LENGTH]


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """What django-axes' middleware answers for a request it marked locked out.
    The view has answered already: the API with 429 too_many_attempts, a
    sign-in form re-rendered with the message (answered 429 here when the
    attempt itself was refused; the failure that reached the limit keeps its
    answer)."""
    if original_response is None:
        return JsonResponse(
            {"code": "too_many_attempts", "message": too_many_attempts_message()}, status=429
        )
    if getattr(request, "sign_in_throttled", False) and original_response.status_code == 200:
        original_response.status_code = 429
    return original_response
