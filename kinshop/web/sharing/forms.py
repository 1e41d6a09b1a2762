"""The share sheet's request: which shop, and which of its products if any."""

from __future__ import annotations

from django import forms

from kinshop.web.forms import IdField


class ShareSheetForm(forms.Form):
    shop = forms.SlugField(max_length=50)
    product = IdField(required=False)
