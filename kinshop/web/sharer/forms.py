"""Forms of the sharer centre."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from kinshop.web.forms import YuanField


class IdentityForm(forms.Form):
    real_name = forms.CharField(label=_("Legal name"), max_length=60)
    id_number = forms.CharField(
        label=_("ID card number"),
        max_length=24,
        help_text=_("18 characters. Only a masked form is kept."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )


class WithdrawalForm(forms.Form):
    amount = YuanField(label=_("Amount (yuan)"))
    wallet = forms.ChoiceField(label=_("From wallet"))

    def __init__(self, *args, wallets: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["wallet"]).choices = wallets
        self.fields["amount"].widget.attrs["placeholder"] = "100.00"
        if len(wallets) == 1:
            self.fields["wallet"].widget = forms.HiddenInput()
            self.fields["wallet"].initial = wallets[0][0]
