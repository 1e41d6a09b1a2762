"""What a service's refusal says to a person, in their language: the one table
of error texts by code, for every page.

Services explain themselves in English for logs and the API, with a stable
code; a page shows the translated sentence for that code, a translated
sentence for the kind of error when the code is not in the table, and a polite
general one otherwise. One entry per code: a code raised in two places must
read well in both (if it cannot, the service should raise two codes)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kinshop.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from kinshop.core.money import format_money

ERROR_TEXT = {
    # accounts and identity
    "username_taken": _("This username is taken. Try another one."),
    "invalid_username": _("A username has 3 to 150 letters, digits or . @ + - _."),
    "invalid_phone": _("Enter a valid phone number."),
    "invalid_real_name": _("Give your full legal name."),
    "invalid_id_number": _(
        "This is not a valid ID number: 17 digits and a check digit or X that matches them."
    ),
    "id_number_in_use": _("This ID number already verifies another account."),
    "too_many_attempts": _("Too many failed sign-ins. Wait 15 minutes, then try again."),
    "wrong_password": _("The current password is wrong."),
    # shops
    "already_has_shop": _("You already have a shop."),
    "handle_taken": _("This handle is taken: choose another one."),
    "invalid_handle": _("A handle has 3 to 30 lowercase letters, digits or hyphens."),
    "invalid_name": _("A shop needs a name of at most 60 characters."),
    "not_shopkeeper": _("Only the shop's keeper can do this."),
    "shop_not_found": _("This shop is closed."),
    "product_not_found": _("This product is no longer in the supply market."),
    "product_not_in_shop": _("This shop does not sell that product."),
    "price_out_of_band": _("%(sku)s: the price must be between %(retail_min)s and %(retail_max)s."),
    "price_below_cost": _("At this price the item would sell below its cost."),
    # catalog
    "missing_field": _("A supplier needs a name and a licence number."),
    "already_supplier_staff": _("You already work for a supplier."),
    "not_supplier_staff": _("Only the supplier's staff can do this."),
    "supplier_not_verified": _("Your supplier is not verified yet."),
    "missing_title": _("A product needs a title."),
    "commission_rate_out_of_range": _("The commission rate is out of the allowed range."),
    "missing_skus": _("A product needs at least one SKU."),
    "duplicate_sku_code": _("SKU codes must be given and distinct."),
    "sku_code_taken": _("One of these SKU codes is already used."),
    "unknown_sku": _("Some of these items no longer exist."),
    "negative_stock": _("Stock cannot be negative."),
    "negative_price": _("Prices cannot be negative."),
    "band_inverted": _("SKU %(sku)s: the lowest retail price is above the highest."),
    "suggested_price_out_of_band": _("SKU %(sku)s: the suggested price must be inside the band."),
    "band_below_cost": _(
        "SKU %(sku)s: some prices in the band would not cover supply, fee and commission."
    ),
    "stock_limit": _("Stock cannot go that high."),
    "out_of_stock": _("There is not enough stock."),
    # orders: checkout
    "quantity_not_positive": _("Every quantity must be at least 1."),
    "no_lines": _("Your cart for this shop is empty."),
    "too_many_lines": _("An order holds at most 50 different items."),
    "quantity_too_large": _("At most 999 units of one item per order."),
    "invalid_recipient_name": _("Enter the recipient’s name."),
    "invalid_region": _("Enter the province, city and district."),
    "invalid_address": _("Enter the street address."),
    "sku_not_sold_here": _("This shop no longer sells some items in your cart."),
    "too_many_unpaid": _(
        "You can hold at most %(limit)s unpaid units of one item: pay or cancel your unpaid "
        "orders first."
    ),
    # orders: after checkout
    "order_not_found": _("No such order."),
    "not_buyer": _("Only the buyer can do that."),
    "invalid_transition": _("This cannot be done in the current state."),
    "missing_tracking": _("A shipment needs a carrier and a tracking number."),
    "after_sales_closed": _("The after-sales window for this order has closed."),
    "missing_reason": _("Say why you want a refund."),
    "unknown_supplier": _("That supplier has no part in this order."),
    "refund_not_found": _("No such refund."),
    "refund_exceeds_paid": _("That is more than can still be refunded."),
    "not_allowed": _("Only the supplier's staff or an operator can do this."),
    "not_paid": _("This order has no captured payment to refund."),
    # payments
    "payment_deadline_passed": _("The payment deadline has passed, so the order was closed."),
    "unknown_provider": _("This payment method is not available."),
    "sandbox_disabled": _("The payment sandbox is off."),
    "not_offline_payment": _("This is not an offline payment."),
    # ledger
    "invalid_amount": _("Enter an amount above zero."),
    "identity_not_verified": _("Verify your identity before withdrawing."),
    "below_minimum": _("A withdrawal is at least %(minimum)s."),
    "insufficient_funds": _("The amount is more than is available (%(available)s)."),
    "debt_first": _(
        "You owe %(debt)s from a refund in another of your wallets; it is repaid first: "
        "withdraw more than that."
    ),
    "invalid_wallet": _("Choose one of your wallets."),
    "not_shopkeeper_wallet": _("Only a shop's keeper can use its wallet."),
    # wholesale
    "holding_cap": _(
        "%(sku)s: over your holding cap. You have %(unsold)s unsold units and ordered "
        "%(ordering)s; the cap is %(cap)s (the larger of %(floor)s and twice the "
        "%(sold_offline_30_days)s you sold offline in the last 30 days). You can order "
        "%(room)s more now."
    ),
    "exceeds_holding": _("You hold %(held)s units of this item: you cannot sell or return more."),
    "no_wholesale_tiers": _("This item is not sold wholesale."),
    "below_wholesale_minimum": _("Wholesale starts at %(min_quantity)s units of this item."),
    "not_on_market": _("This item is no longer in the supply market."),
    "too_many_tiers": _("At most 10 wholesale tiers per item."),
    "invalid_min_quantity": _("A tier starts at 1 to 999 units."),
    "invalid_unit_price": _("A wholesale price is at least ¥0.01."),
    "tier_above_supply_price": _("A wholesale price cannot be above the supply price."),
    "duplicate_min_quantity": _("Two tiers start at the same quantity."),
    "tier_prices_not_falling": _("Each tier must cost less per unit than the one before it."),
    "exceeds_line": _("Only %(returnable)s units of this order line can still be returned."),
    "not_shipped": _("Only units that were shipped to you can be returned."),
    "line_not_found": _("No such wholesale order line."),
    # live rooms
    "live_room_not_found": _("This live room does not exist or is over."),
    "room_not_live": _("This live room is not on air."),
    "room_ended": _("This live room is over."),
    "slow_down": _("One message a second, please."),
    "muted": _("The shopkeeper has muted you in this room."),
    "message_length": _("A message has 1 to 300 characters."),
    "stream_not_allowed": _("The stream must be an https address on an allowed host."),
    "invalid_title": _("A title has 1 to 100 characters."),
    "pin_not_found": _("This product is not pinned."),
    "cannot_mute_keeper": _("The shopkeeper cannot be muted."),
    "one_target": _("Share a product or a live room, not both."),
    # group buys and flash sales
    "group_buy_not_found": _("This group buy does not exist."),
    "group_not_found": _("This group does not exist."),
    "flash_sale_not_found": _("This flash sale does not exist."),
    "campaign_not_found": _("This offer does not exist any more."),
    "group_closed": _("This group is closed: start your own group instead."),
    "group_full": _("Every seat of this group is taken."),
    "already_in_group": _("You (or an account linked to yours) are already in this group."),
    "group_not_complete": _("This order waits for its group to be complete."),
    "not_started": _("This flash sale has not started yet."),
    "ended": _("This flash sale has ended."),
    "sold_out": _("Sold out."),
    "limit_reached": _("You have reached this flash sale's limit per buyer."),
    "price_outside_band": _("The price must be inside the supplier's retail band."),
    "invalid_group_size": _("A group has 2 to 50 members."),
    "invalid_hours": _("A group's time limit is 1 to 72 hours."),
    "ends_in_the_past": _("The offer must end in the future."),
    "leader_price_above_group_price": _("The leader's price cannot be above the group price."),
    "invalid_units": _("A flash sale offers at least 1 unit."),
    "invalid_per_buyer_limit": _("The per-buyer limit is 1 to the units offered."),
    "invalid_window": _("A flash sale ends after it starts."),
    "invalid_payment_minutes": _("The payment deadline is 1 minute to 24 hours."),
    # insight
    "invalid_date": _("Enter dates like 2026-12-01."),
    "invalid_period": _("Choose a period whose start comes before its end, at most three years."),
    # pre-sales
    "balance_not_open": _("The balance cannot be paid yet: wait for the balance window to open."),
    "balance_closed": _("The time to pay the balance has passed."),
    "presale_not_found": _("This pre-sale does not exist."),
    "invalid_deposit": _("The deposit is 1 fen up to the price."),
    "invalid_balance_window": _("The balance window must end after it opens."),
    "ships_before_balance": _("The ship date cannot be before the balance window opens."),
}

# Codes whose message the service already wrote in the person's language:
# Django's password validators speak it.
SHOWN_AS_GIVEN = frozenset({"weak_password"})

GENERIC_TEXT = {
    InvalidInput: _("That input is not valid."),
    Forbidden: _("You are not allowed to do this."),
    NotFound: _("Not found."),
    Conflict: _("This cannot be done now."),
}

FALLBACK_TEXT = _("Sorry, that did not work. Please try again.")

# Details that are amounts in fen, shown as money.
MONEY_DETAILS = ("retail_min", "retail_max", "minimum", "available", "debt")


def error_text(error: DomainError, **extra: Any) -> str:
    """The refusal in the active language, with the error's details (and
    `extra`, such as a SKU's name) filled in and amounts formatted as money.
    A refusal about a named SKU names it, even when its sentence does not."""
    if error.code in SHOWN_AS_GIVEN:
        return error.message
    template = ERROR_TEXT.get(error.code)
    if template is None:
        for kind, generic in GENERIC_TEXT.items():
            if isinstance(error, kind):
                return str(generic)
        return str(FALLBACK_TEXT)
    values = {"sku": "", **error.details, **extra}
    for key in MONEY_DETAILS:
        if isinstance(values.get(key), int):
            values[key] = format_money(values[key])
    try:
        text = str(template) % values
    except (KeyError, TypeError, ValueError):
        text = str(template)
    if values["sku"] and "%(sku)s" not in str(template):
        text = f"{values['sku']}: {text}"
    return text
