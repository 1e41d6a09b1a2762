"""The public share page: a browser opening /s/<code> is counted and sent on."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.shortcuts import redirect, render

from kinshop.core.errors import NotFound
from kinshop.sharing import rules, services
from kinshop.sharing.api import poster_response

SESSION_SHARE_CODE = "share_code"
SESSION_VISITOR_KEY = "visitor_key"


def visitor_key(request) -> str:
    """A random key for this browser's session, so clicks made before signing
    up can be claimed by the account afterwards."""
    key = request.session.get(SESSION_VISITOR_KEY)
    if not key:
        key = secrets.token_urlsafe(24)
        request.session[SESSION_VISITOR_KEY] = key
    return key


def landing(request, code: str):
    channel = request.GET.get("c", "link")
    if not rules.is_valid_channel(channel):
        channel = "link"  # a mangled link still counts, as a plain link
    viewer = request.user if request.user.is_authenticated else None
    key = visitor_key(request)
    try:
        with transaction.atomic():
            if viewer is not None:
                services.claim_anonymous_clicks(visitor_key=key, user=viewer)
            click = services.record_click(
                code=code, viewer=viewer, visitor_key=key, channel=channel
            )
    except NotFound:
        return render(request, "sharing/not_found.html", {"code": code}, status=404)
    link = click.link
    # Checkout passes this code to attribution: it counts as a click at purchase.
    request.session[SESSION_SHARE_CODE] = link.code
    if link.product_id is not None:
        return redirect(f"/shop/{link.shop.handle}/p/{link.product_id}/")
    return redirect(f"/shop/{link.shop.handle}/")


def poster_png(request, code: str):
    try:
        link = services.link_by_code(code)
    except NotFound:
        return render(request, "sharing/not_found.html", {"code": code}, status=404)
    return poster_response(link)
