"""What the page header needs on every page, without a context processor."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from kinshop.web import viewer_parts

register = template.Library()


@register.simple_tag(takes_context=True)
def viewer_part(context, name: str) -> SafeString:
    """`{% viewer_part "cart" %}`: a part of the page that is the viewer's own
    (see kinshop.web.viewer_parts): rendered for this request, or left as a
    marker when the page is kept rendered for every viewer."""
    return viewer_parts.render_part(name, context)


@register.simple_tag
def roles_of(user) -> dict[str, bool]:
    """Which consoles a user may open: one query each, cached on the user."""
    if not getattr(user, "is_authenticated", False):
        return {}
    return {
        "shopkeeper": hasattr(user, "shop"),
        "supplier": hasattr(user, "supplier_membership"),
        "operator": bool(user.is_staff),
    }
