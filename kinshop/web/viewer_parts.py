"""Pages kept rendered for every viewer, with each viewer's own parts put in.

A storefront is the same for everyone who opens it but for a few small parts:
the CSRF token, the cart badge, the account menu, the toasts, the friend who
shared the link. Templates mark each of them with `{% viewer_part "name" %}`.
Rendered the usual way, the tag renders that part for the request. Rendered as
a *frame* (`render_frame`), it leaves a marker instead, and the page is kept
cut at its markers; `fill` then puts a request's own parts in with no template
rendering, and for an anonymous visitor with no query.

A frame is rendered without a request (no context processors run), so nothing
of the visitor who happened to cause it can end up in a page kept for everyone:
whatever depends on the viewer must be a part, or it renders empty.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from kinshop.accounts.models import User
from kinshop.core.errors import NotFound
from kinshop.sharing import services as sharing
from kinshop.sharing.cookie import share_code_of

# A frame is a tuple: text, part name, text, part name, ..., text.
Frame = tuple[str, ...]
Part = Callable[[Any, Mapping[str, Any]], str]

FRAMING = "viewer_part_framing"  # in a template's context while it renders as a frame
# Markers are cut out in the process that rendered them, right away; the random
# nonce keeps a shop's or product's text from ever passing for one.
_NONCE = secrets.token_hex(8)
_MARKER = re.compile("\ue000" + _NONCE + r":([a-z_]+)\ue001")
SHARED_BY_SECONDS = 300  # a sharer's new name shows within this time

# Each part is registered where what it shows is kept: the cart badge by the
# cart (kinshop.web.orders.cart, imported when the web app is ready).
PARTS: dict[str, Part] = {}


def part(name: str) -> Callable[[Part], Part]:
    def register(function: Part) -> Part:
        PARTS[name] = function
        return function

    return register


def render_part(name: str, context) -> SafeString:
    """What `{% viewer_part name %}` renders: the marker in a frame, else the part
    for the context's request (nothing when a page is rendered without one)."""
    if name not in PARTS:
        raise ValueError(f"No viewer part is called {name!r}.")
    if context.get(FRAMING):
        return mark_safe(f"\ue000{_NONCE}:{name}\ue001")
    request = context.get("request")
    return mark_safe(PARTS[name](request, context) if request is not None else "")


def render_frame(template_name: str, context: dict[str, Any]) -> Frame:
    html = render_to_string(template_name, {**context, FRAMING: True})
    return tuple(_MARKER.split(html))


def fill(frame: Frame, request, context: Mapping[str, Any] | None = None) -> str:
    """The page of this frame for this request: each part rendered for it. A
    part's text is safe HTML (each part escapes what it puts in)."""
    context = context or {}
    pieces = list(frame)
    for index in range(1, len(pieces), 2):
        pieces[index] = PARTS[pieces[index]](request, context)
    return "".join(pieces)


@part("csrf")
def _csrf(request, context) -> str:
    """One token per response, however many forms ask for it, as Django's own
    `{% csrf_token %}` does: masking a token costs more than the rest of a part."""
    token = getattr(request, "_viewer_part_csrf", None)
    if token is None:
        token = request._viewer_part_csrf = escape(get_token(request))
    return token


@part("path")
def _path(request, context) -> str:
    return escape(request.get_full_path())


@part("next")
def _next(request, context) -> str:
    """This page's address as a query value, for the sign-in links' `next`."""
    return escape(urlencode(request.get_full_path()))


_anonymous_menus: dict[str, Frame] = {}


@part("menu")
def _menu(request, context) -> str:
    """The account menu. A visitor who is not signed in gets the same menu as
    every other (kept as a frame per language in this process: it depends on
    nothing but the code and the language), with their own token and address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return render_to_string("web/_menu.html", request=request)
    language = get_language()
    frame = _anonymous_menus.get(language)
    if frame is None:
        frame = _anonymous_menus[language] = render_frame(
            "web/_menu.html", {"user": AnonymousUser()}
        )
    return fill(frame, request, context)


@part("messages")
def _messages(request, context) -> str:
    messages = get_messages(request)
    if not messages:
        return ""
    return render_to_string("web/_toasts.html", {"messages": messages})


@part("shared_by")
def _shared_by(request, context) -> str:
    """The friend whose link brought this visitor to this shop (`shop_id` in the
    context), if any. The link is in the cache (sharing.landing_target), and the
    line naming its sharer is kept a few minutes per sharer and language."""
    code = share_code_of(request)
    if not code:
        return ""
    try:
        target = sharing.landing_target(code)
    except NotFound:
        return ""
    if target.shop_id != context.get("shop_id"):
        return ""
    key = f"shared-by:{target.sharer_id}:{get_language()}"
    html = cache.get(key)
    if html is None:
        sharer = User.objects.filter(pk=target.sharer_id).first()
        html = (
            render_to_string("web/storefront/_shared_by.html", {"shared_by": sharer.public_name})
            if sharer is not None
            else ""
        )
        cache.set(key, html, SHARED_BY_SECONDS)
    return html
