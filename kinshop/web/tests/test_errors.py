"""The one table of error texts: every code speaks both languages, and a code
it does not know still gets a sentence."""

from __future__ import annotations

import pytest
from django.utils import translation

from kinshop.core.errors import Conflict, DomainError, InvalidInput
from kinshop.web.errors import ERROR_TEXT, error_text


@pytest.mark.parametrize("code", sorted(ERROR_TEXT))
def test_every_code_has_a_chinese_text(code):
    with translation.override("en"):
        english = str(ERROR_TEXT[code])
    with translation.override("zh-hans"):
        chinese = str(ERROR_TEXT[code])
    assert chinese != english


def test_details_are_filled_in_and_amounts_shown_as_money():
    error = InvalidInput("too much", code="insufficient_funds", available=1980)
    with translation.override("en"):
        assert error_text(error) == "The amount is more than is available (¥19.80)."


def test_a_refusal_about_a_named_sku_names_it():
    error = InvalidInput("below cost", code="price_below_cost", sku_id=7)
    with translation.override("en"):
        assert error_text(error) == "At this price the item would sell below its cost."
        assert error_text(error, sku="500 g") == (
            "500 g: At this price the item would sell below its cost."
        )


def test_an_unknown_code_falls_back_on_its_kind_then_on_a_polite_sentence():
    with translation.override("en"):
        assert error_text(Conflict("x", code="brand_new")) == "This cannot be done now."
        assert error_text(DomainError("x", code="brand_new")) == (
            "Sorry, that did not work. Please try again."
        )


def test_a_message_already_in_the_persons_language_is_shown_as_given():
    error = InvalidInput("密码太短。", code="weak_password")
    assert error_text(error) == "密码太短。"
