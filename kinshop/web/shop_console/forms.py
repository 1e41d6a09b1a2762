"""Forms of the shop console."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kinshop.core.money import parse_yuan
from kinshop.web.forms import IdField, YuanField


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


class WholesaleOrderForm(forms.Form):
    """Buy stock of one SKU at its tier price."""

    sku_id = IdField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999)


class OfflineSaleForm(forms.Form):
    """Units of a holding sold offline (a market stall, a tea room)."""

    sku_id = IdField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Units sold"), min_value=1, max_value=100_000)
    unit_price = YuanField(label=_("Price per unit (¥)"))
