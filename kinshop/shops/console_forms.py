"""Forms of the shop console, and the one place where a service's refusal
(a `DomainError` with a stable code) becomes a sentence in the user's language.

Services speak English for logs and the API; the web shows the translated text
for the code, and a translated generic sentence for a code it does not know."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kinshop.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from kinshop.core.money import format_money, parse_yuan

ERROR_TEXT = {
    # shops
    "already_has_shop": _("You already have a shop."),
    "handle_taken": _("This handle is taken: choose another one."),
    "invalid_handle": _("A handle has 3 to 30 lowercase letters, digits or hyphens."),
    "invalid_name": _("A shop needs a name of at most 60 characters."),
    "not_shopkeeper": _("Only the shop's keeper can do this."),
    "product_not_found": _("This product is no longer in the supply market."),
    "unknown_sku": _("Some prices name SKUs of another product."),
    "price_out_of_band": _("%(sku)s: the price must be between %(retail_min)s and %(retail_max)s."),
    "price_below_cost": _("%(sku)s: at this price the margin would be negative."),
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
    "negative_stock": _("Stock cannot be negative."),
    "negative_price": _("Prices cannot be negative."),
    "band_inverted": _("SKU %(sku)s: the lowest retail price is above the highest."),
    "suggested_price_out_of_band": _("SKU %(sku)s: the suggested price must be inside the band."),
    "band_below_cost": _(
        "SKU %(sku)s: some prices in the band would not cover supply, fee and commission."
    ),
    "stock_limit": _("Stock cannot go that high."),
    "out_of_stock": _("Not enough stock to remove that many."),
    # orders and payments
    "missing_tracking": _("A shipment needs a carrier and a tracking number."),
    "order_not_found": _("No such order."),
    "refund_not_found": _("No such refund."),
    "invalid_transition": _("This cannot be done in the current state."),
    "not_allowed": _("Only the supplier's staff or an operator can do this."),
    "not_offline_payment": _("This is not an offline payment."),
    "not_paid": _("This order has no captured payment to refund."),
    # ledger and identity
    "invalid_amount": _("Enter a positive amount."),
    "identity_not_verified": _("Verify your identity before withdrawing."),
    "below_minimum": _("A withdrawal is at least %(minimum)s."),
    "insufficient_funds": _("The amount is more than is available (%(available)s)."),
    "invalid_wallet": _("Choose one of your wallets."),
    "not_shopkeeper_wallet": _("Only a shop's keeper can use its wallet."),
    "invalid_real_name": _("Give your full legal name."),
    "invalid_id_number": _("An ID number has 18 characters: 17 digits and a digit or X."),
}

GENERIC_TEXT = {
    InvalidInput: _("That input is not valid."),
    Forbidden: _("You are not allowed to do this."),
    NotFound: _("Not found."),
    Conflict: _("This cannot be done now."),
}

T = TypeVar("T")

MONEY_DETAILS = ("retail_min", "retail_max", "minimum", "available")


def submit(form: forms.Form, action: Callable[[dict[str, Any]], T]) -> T | None:
    """Run `action(cleaned_data)` — one service call — in one transaction when the
    bound form is valid. Returns what the service returned (always an object),
    or None when the form or the service refused; a service's refusal is added
    to the form in the person's language."""
    if not form.is_valid():
        return None
    try:
        with transaction.atomic():
            return action(form.cleaned_data)
    except DomainError as error:
        form.add_error(None, error_message(error))
        return None


def error_message(error: DomainError, **extra) -> str:
    """The refusal in the active language, with its amounts formatted as money."""
    template = ERROR_TEXT.get(error.code)
    if template is None:
        for kind, text in GENERIC_TEXT.items():
            if isinstance(error, kind):
                return str(text)
        return gettext("Something went wrong. Please try again.")
    values = {"sku": "", **error.details, **extra}
    for key in MONEY_DETAILS:
        if isinstance(values.get(key), int):
            values[key] = format_money(values[key])
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)


class YuanField(forms.CharField):
    """An amount typed in yuan ('99', '99.9', '99.90'), cleaned to fen exactly."""

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        self.allow_negative = allow_negative
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("maxlength", "16")
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if len(value) > 16:
            raise forms.ValidationError(_("Enter an amount in yuan, like 99 or 99.90."))
        try:
            fen = parse_yuan(value)
        except ValueError:
            raise forms.ValidationError(_("Enter an amount in yuan, like 99 or 99.90.")) from None
        if fen < 0 and not self.allow_negative:
            raise forms.ValidationError(_("Enter an amount in yuan, like 99 or 99.90."))
        return fen


class OpenShopForm(forms.Form):
    name = forms.CharField(label=_("Shop name"), max_length=60)
    handle = forms.SlugField(
        label=_("Handle (your shop's address)"),
        max_length=30,
        help_text=_("3 to 30 lowercase letters, digits or hyphens."),
    )
    bio = forms.CharField(label=_("About your shop"), required=False, widget=forms.Textarea)


class ShopSettingsForm(forms.Form):
    name = forms.CharField(label=_("Shop name"), max_length=60)
    bio = forms.CharField(
        label=_("About your shop"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


def price_field_name(sku_id: int) -> str:
    return f"price_{sku_id}"


def parse_pick_prices(data, sku_ids) -> tuple[dict[int, int], list[str]]:
    """The retail prices typed for a product's SKUs (yuan → fen); a blank price
    is left out, so the service uses the suggested one."""
    prices: dict[int, int] = {}
    problems: list[str] = []
    for sku_id in sku_ids:
        text = (data.get(price_field_name(sku_id)) or "").strip()
        if not text:
            continue
        try:
            fen = parse_yuan(text)
        except ValueError:
            problems.append(gettext("Enter an amount in yuan, like 99 or 99.90."))
            continue
        if fen <= 0:
            problems.append(gettext("Enter a positive amount."))
            continue
        prices[sku_id] = fen
    return prices, problems
