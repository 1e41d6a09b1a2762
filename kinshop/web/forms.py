"""What every page's forms share: the one way to submit a form to a service
(`submit`), and the fields for amounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kinshop.core.converters import MAX_ID
from kinshop.core.errors import DomainError
from kinshop.core.money import parse_yuan
from kinshop.web.errors import error_text

T = TypeVar("T")


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
        form.add_error(None, error_text(error))
        return None


def refusal(form: forms.Form) -> str:
    """What a submitted form refused, in one line, for a page that answers
    with a message and a redirect rather than the form."""
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


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


class IdField(forms.IntegerField):
    """The id of a row, as a form sends it: ASCII-or-not digits that make an
    integer a primary key can hold. Anything else ('²', '1e5', a number larger
    than any column) is a form error, never a database error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
