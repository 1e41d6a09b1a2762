"""The share code a browser arrived with, kept in a signed cookie rather than
in the session: a share link's landing then writes nothing but its click."""

from __future__ import annotations

from django.conf import settings

COOKIE_NAME = "kinshop_share"
SESSION_KEY = "share_code"  # where sessions made before the cookie keep it
_SALT = "kinshop.share-code"


def share_code_of(request) -> str:
    """The code of the last share link this browser opened, or ""."""
    code = request.get_signed_cookie(COOKIE_NAME, default="", salt=_SALT)
    if not code and hasattr(request, "session"):
        code = request.session.get(SESSION_KEY, "")
    return code or ""


def remember_share_code(response, code: str) -> None:
    """Checkout passes this code to attribution: it counts as a click at purchase."""
    response.set_signed_cookie(
        COOKIE_NAME,
        code,
        salt=_SALT,
        max_age=settings.KINSHOP_ATTRIBUTION_DAYS * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
