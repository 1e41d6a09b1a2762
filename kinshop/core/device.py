"""One long-lived first-party id per device.

A browser gets a random id in the `kinshop_device` cookie on its first visit; an
app sends its own install id in the `X-Device-Id` header instead. Two things
count devices by it: the linked-identity rule (a buyer and a sharer on one device
are one person for commission, DESIGN.md section 3) and insight's visitors (a
signed-in user, or this id).

The id is opaque and carries nothing about the person; a value that does not look
like one of ours (wrong length or alphabet) is ignored and replaced, so the
header cannot smuggle arbitrary text into evidence or analytics.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings

COOKIE_NAME = "kinshop_device"
HEADER = "HTTP_X_DEVICE_ID"
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{16,64}")


def well_formed(value: str | None) -> bool:
    return bool(value) and _WELL_FORMED.fullmatch(value or "") is not None


def new_device_id() -> str:
    return secrets.token_urlsafe(18)


def device_of(request) -> str:
    """The device this request came from, as evidence for linked identities: the
    app's header or the browser's cookie, or "" when the id was only just minted
    for this request (a client that keeps no cookie would leave a new, unshared
    id behind on every call)."""
    if getattr(request, "device_id_is_new", True):
        return ""
    return getattr(request, "device_id", "")


class DeviceIdMiddleware:
    """Sets `request.device_id` on every request: the app's header, else the
    cookie, else a new id that the response stores in the cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get(HEADER)
        cookie = request.COOKIES.get(COOKIE_NAME)
        if well_formed(header):
            request.device_id, remember = header, False
        elif well_formed(cookie):
            request.device_id, remember = cookie, False
        else:
            request.device_id, remember = new_device_id(), True
        request.device_id_is_new = remember
        response = self.get_response(request)
        if remember:
            response.set_cookie(
                COOKIE_NAME,
                request.device_id,
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
