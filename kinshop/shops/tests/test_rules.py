"""Shop handles. No database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinshop.shops.rules import RESERVED_HANDLES, handle_problem


@pytest.mark.parametrize("handle", ["abc", "nut-shop", "a1b", "x" * 30, "0-0"])
def test_good_handles(handle):
    assert handle_problem(handle) is None


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "ab",  # under 3
        "x" * 31,  # over 30
        "-abc",
        "abc-",
        "Abc",
        "nut_shop",
        "nut shop",
        "nütshop",
        "abc\n",
        "\nabc",
    ],
)
def test_bad_handles(handle):
    assert handle_problem(handle) == "invalid_handle"


@pytest.mark.parametrize("handle", sorted(RESERVED_HANDLES - {"s", "me"}))
def test_reserved_handles(handle):
    assert handle_problem(handle) == "handle_reserved"


@given(st.text(max_size=40))
def test_an_accepted_handle_is_a_short_lowercase_slug(handle):
    if handle_problem(handle) is None:
        assert 3 <= len(handle) <= 30
        assert set(handle) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
        assert not handle.startswith("-") and not handle.endswith("-")
        assert handle not in RESERVED_HANDLES
