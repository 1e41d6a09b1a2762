from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kinshop.web.forms import IdField


class ScheduleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    scheduled_at = forms.DateTimeField(
        label=_("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    stream_url = forms.URLField(
        label=_("Stream address (optional)"), max_length=500, required=False, assume_scheme="https"
    )


class ChatForm(forms.Form):
    text = forms.CharField(label=_("Message"), max_length=300, strip=True)


class PinForm(forms.Form):
    product = IdField()


class MuteForm(forms.Form):
    user = IdField()


class BuyForm(forms.Form):
    sku = IdField(label=_("Item"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=99, initial=1)
    name = forms.CharField(label=_("Recipient"), max_length=60)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    region = forms.CharField(label=_("Province / city / district"), max_length=120)
    detail = forms.CharField(label=_("Street and number"), max_length=255)


class DealBuyForm(forms.Form):
    """Buy one of the room's flash deals: which one, how many, where to."""

    sale = IdField(label=_("Deal"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=99, initial=1)
    name = forms.CharField(label=_("Recipient"), max_length=60)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    region = forms.CharField(label=_("Province / city / district"), max_length=120)
    detail = forms.CharField(label=_("Street and number"), max_length=255)
