"""What the page header needs on every page, without a context processor."""

from __future__ import annotations

from django import template

from kinshop.web.orders.cart import Cart

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_count(context) -> int:
    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return 0
    return Cart(request.session).count()


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
