"""Forms of the buyer's pages: the delivery address, a refund request and the
sandbox bank's payment."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from kinshop.core.money import parse_yuan
from kinshop.orders.rules import MAX_QUANTITY
from kinshop.web.forms import IdField


class CartLineForm(forms.Form):
    """A line of the cart as the product page and the cart page post it."""

    shop = forms.SlugField(max_length=50)
    sku = IdField()
    quantity = forms.IntegerField(required=False)

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data.get("quantity")
        return 1 if quantity is None else max(1, min(quantity, MAX_QUANTITY))


class AddressForm(forms.Form):
    name = forms.CharField(label=_("Recipient"), max_length=60)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,  # as typed; stored in its canonical form, at most 20
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


class RefundForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount (yuan)"),
        max_length=16,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_amount(self) -> int:
        try:
            amount = parse_yuan(self.cleaned_data["amount"])
        except ValueError:
            raise forms.ValidationError(_("Enter an amount like 12.50.")) from None
        if amount < 1:
            raise forms.ValidationError(_("Enter an amount above zero."))
        return amount


class SandboxPayForm(forms.Form):
    """The sandbox bank reports the account the payer paid from, as a real
    provider does (two accounts paying from one are one person)."""

    payer_id = forms.CharField(
        label=_("Pay from sandbox account (optional)"),
        required=False,
        max_length=64,
        validators=[RegexValidator(r"^[A-Za-z0-9_.:@-]*$")],
        widget=forms.TextInput(
            attrs={"class": "input", "autocomplete": "off", "placeholder": "6222-0001"}
        ),
    )
