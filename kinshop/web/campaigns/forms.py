"""The forms of the campaign pages: a member's order (quantity and address),
and the shop console's group buy, flash sale and pre-sale."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kinshop.web.forms import IdField, YuanField

_WHEN = {"type": "datetime-local"}
_WHEN_FORMAT = "%Y-%m-%dT%H:%M"


class MemberForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=99, initial=1)
    name = forms.CharField(label=_("Recipient"), max_length=60)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    region = forms.CharField(
        label=_("Province / city / district"),
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    detail = forms.CharField(
        label=_("Street and number"),
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )


class GroupBuyForm(forms.Form):
    sku = IdField(label=_("Item"))
    group_price = YuanField(label=_("Group price (yuan)"))
    leader_price = YuanField(label=_("Leader's price (yuan, optional)"), required=False)
    group_size = forms.IntegerField(label=_("Members per group"), min_value=2, max_value=50)
    hours = forms.IntegerField(label=_("Hours to fill a group"), min_value=1, max_value=72)
    ends_at = forms.DateTimeField(
        label=_("New groups until"),
        widget=forms.DateTimeInput(attrs=_WHEN, format=_WHEN_FORMAT),
    )


class FlashSaleForm(forms.Form):
    sku = IdField(label=_("Item"))
    price = YuanField(label=_("Flash price (yuan)"))
    units = forms.IntegerField(label=_("Units offered"), min_value=1, max_value=1_000_000)
    per_buyer_limit = forms.IntegerField(
        label=_("Units per buyer at most"), min_value=1, max_value=1_000_000
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=forms.DateTimeInput(attrs=_WHEN, format=_WHEN_FORMAT)
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), widget=forms.DateTimeInput(attrs=_WHEN, format=_WHEN_FORMAT)
    )
    payment_minutes = forms.IntegerField(
        label=_("Minutes to pay"), min_value=1, max_value=24 * 60, initial=15
    )


class PresaleForm(forms.Form):
    sku = IdField(label=_("Item"))
    price = YuanField(label=_("Pre-sale price (yuan)"))
    deposit = YuanField(label=_("Deposit per unit (yuan)"))
    balance_starts_at = forms.DateTimeField(
        label=_("Balance from"), widget=forms.DateTimeInput(attrs=_WHEN, format=_WHEN_FORMAT)
    )
    balance_ends_at = forms.DateTimeField(
        label=_("Balance until"), widget=forms.DateTimeInput(attrs=_WHEN, format=_WHEN_FORMAT)
    )
    ships_on = forms.DateField(
        label=_("Ships on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
