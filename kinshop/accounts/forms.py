from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SignUpForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=30, required=False)
