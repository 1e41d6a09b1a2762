"""The sign-up form, and Django's sign-in forms (the page's and the admin's)
throttled."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from kinshop.accounts.auth import sign_in
from kinshop.core.errors import NotAuthenticated, TooManyRequests
from kinshop.web.errors import error_text


class SignUpForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class ThrottledSignInMixin:
    """Signs in through `accounts.auth.sign_in`, so failures are counted and an
    attempt past the limit is refused with its own message, not 'wrong password'."""

    request: Any
    cleaned_data: dict[str, Any]
    user_cache: Any

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = sign_in(self.request, username=username, password=password)
            except TooManyRequests as error:
                raise forms.ValidationError(error_text(error), code=error.code) from None
            except NotAuthenticated:
                raise self.get_invalid_login_error() from None  # type: ignore[attr-defined]
            self.confirm_login_allowed(self.user_cache)  # type: ignore[attr-defined]
        return self.cleaned_data


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    pass


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    pass
