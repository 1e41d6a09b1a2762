"""How an API caller is known: a bearer token from `create_token`, or the
browser session with Django's CSRF check. Every router is mounted with `AUTH`;
public operations call `optional_user`."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from kinshop.accounts.services import user_for_token
from kinshop.core.errors import NotAuthenticated


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
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
        user = user_for_token(header[7:].strip())
        if user is None:
            raise NotAuthenticated("This token is not valid.", code="invalid_token")
        request.user = user
        return user
    user = getattr(request, "user", None)
    return user if user is not None else AnonymousUser()
