"""The shopping cart: a few numbers kept in the browser's session.

It stores `{shop_handle: {sku_id: quantity}}` and nothing else: no price, no
stock. Prices are the shop's at checkout, and `orders.services.place_order`
decides what can be bought; the cart only remembers what the buyer chose.
One shop is checked out at a time, so each shop's part stands alone."""

from __future__ import annotations

from django.utils.html import format_html

from kinshop.orders.rules import MAX_DISTINCT_LINES, MAX_QUANTITY
from kinshop.web import viewer_parts

SESSION_KEY = "cart"


class Cart:
    def __init__(self, session) -> None:
        self.session = session
        raw = session.get(SESSION_KEY)
        self.data: dict[str, dict[str, int]] = raw if isinstance(raw, dict) else {}

    def _save(self) -> None:
        self.data = {handle: lines for handle, lines in self.data.items() if lines}
        self.session[SESSION_KEY] = self.data
        self.session.modified = True

    def add(self, handle: str, sku_id: int, quantity: int) -> None:
        lines = self.data.setdefault(handle, {})
        key = str(sku_id)
        if key not in lines and len(lines) >= MAX_DISTINCT_LINES:
            return
        lines[key] = min(lines.get(key, 0) + quantity, MAX_QUANTITY)
        self._save()

    def set(self, handle: str, sku_id: int, quantity: int) -> None:
        lines = self.data.get(handle)
        if lines is not None and str(sku_id) in lines:
            lines[str(sku_id)] = min(max(quantity, 1), MAX_QUANTITY)
            self._save()

    def remove(self, handle: str, sku_id: int) -> None:
        lines = self.data.get(handle)
        if lines is not None:
            lines.pop(str(sku_id), None)
            self._save()

    def clear(self, handle: str) -> None:
        if self.data.pop(handle, None) is not None:
            self._save()

    def lines(self, handle: str) -> dict[int, int]:
        """sku_id → quantity for one shop."""
        return {int(sku_id): quantity for sku_id, quantity in self.data.get(handle, {}).items()}

    def handles(self) -> list[str]:
        return list(self.data)

    def count(self) -> int:
        """Units in the cart, for the badge in the header."""
        return sum(sum(lines.values()) for lines in self.data.values())


@viewer_parts.part("cart")
def cart_badge(request, context) -> str:
    """The header's badge: how many units are in this visitor's cart, if any."""
    count = Cart(request.session).count() if hasattr(request, "session") else 0
    if not count:
        return ""
    return format_html('<span class="cart-count" data-testid="cart-count">{}</span>', count)
