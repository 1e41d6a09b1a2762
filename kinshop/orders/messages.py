"""What a domain error says to a person, in their language.

Services explain themselves in English for logs and the API; the web shows
the translated sentence for the error's stable code, and a polite general one
for a code it does not know."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kinshop.core.errors import DomainError

ERROR_TEXT = {
    "quantity_not_positive": _("Every quantity must be at least 1."),
    "no_lines": _("Your cart for this shop is empty."),
    "too_many_lines": _("An order holds at most 50 different items."),
    "quantity_too_large": _("At most 999 units of one item per order."),
    "invalid_recipient_name": _("Enter the recipient’s name."),
    "invalid_phone": _("Enter a phone number the courier can call."),
    "invalid_region": _("Enter the province, city and district."),
    "invalid_address": _("Enter the street address."),
    "shop_not_found": _("This shop is closed."),
    "unknown_sku": _("Some items in your cart no longer exist. Please remove them."),
    "sku_not_sold_here": _("This shop no longer sells some items in your cart."),
    "price_below_cost": _("A price changed and this item cannot be sold right now."),
    "out_of_stock": _("Sorry, there is not enough stock left for some items."),
    "invalid_transition": _("This order cannot do that in its current state."),
    "not_buyer": _("Only the buyer can do that."),
    "order_not_found": _("No such order."),
    "after_sales_closed": _("The after-sales window for this order has closed."),
    "missing_reason": _("Say why you want a refund."),
    "unknown_supplier": _("That supplier has no part in this order."),
    "invalid_amount": _("Enter an amount above zero."),
    "refund_exceeds_paid": _("That is more than can still be refunded."),
    "payment_deadline_passed": _("The payment deadline has passed, so the order was closed."),
    "unknown_provider": _("This payment method is not available."),
    "sandbox_disabled": _("The payment sandbox is off."),
    "product_not_in_shop": _("This shop does not sell that product."),
}


def error_text(error: DomainError) -> str:
    return str(ERROR_TEXT.get(error.code, _("Sorry, that did not work. Please try again.")))
