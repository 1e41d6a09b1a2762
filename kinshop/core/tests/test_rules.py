"""Money helpers: integer fen, basis points, explicit rounding down. No database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinshop.core.errors import Conflict
from kinshop.core.money import apply_rate, format_money, parse_yuan, pro_rata
from kinshop.core.statemachine import ensure_transition

amounts = st.integers(min_value=0, max_value=10**12)
rates = st.integers(min_value=0, max_value=10_000)


def test_apply_rate_rounds_down_to_the_fen():
    assert apply_rate(9900, 1000) == 990
    assert apply_rate(9999, 1000) == 999
    assert apply_rate(1, 9999) == 0
    assert apply_rate(12345, 0) == 0
    assert apply_rate(12345, 10_000) == 12345


@pytest.mark.parametrize(("amount", "rate_bp"), [(-1, 100), (100, -1), (100, 10_001)])
def test_apply_rate_refuses_negative_amounts_and_rates_outside_0_to_100_percent(amount, rate_bp):
    with pytest.raises(ValueError):
        apply_rate(amount, rate_bp)


@given(amount=amounts, rate_bp=rates)
def test_apply_rate_is_the_floor_and_never_exceeds_the_amount(amount, rate_bp):
    share = apply_rate(amount, rate_bp)

    assert 0 <= share <= amount
    # floor: share·10000 ≤ amount·rate < (share + 1)·10000
    assert share * 10_000 <= amount * rate_bp < (share + 1) * 10_000


@given(amount=amounts, fee_bp=rates, commission_bp=rates)
def test_two_rates_leave_a_non_negative_remainder_when_they_sum_to_at_most_100_percent(
    amount, fee_bp, commission_bp
):
    if fee_bp + commission_bp > 10_000:
        commission_bp = 10_000 - fee_bp

    remainder = amount - apply_rate(amount, fee_bp) - apply_rate(amount, commission_bp)

    assert remainder >= 0


def test_pro_rata_rounds_down_and_is_zero_for_an_empty_whole():
    assert pro_rata(990, 3300, 9900) == 330
    assert pro_rata(1000, 1, 3) == 333
    assert pro_rata(1000, 5, 0) == 0
    assert pro_rata(1000, 5, -3) == 0


@given(
    part=amounts,
    whole=st.integers(min_value=1, max_value=10**12),
    data=st.data(),
)
def test_pro_rata_never_exceeds_the_part_and_is_exact_for_the_whole(part, whole, data):
    of_amount = data.draw(st.integers(min_value=0, max_value=whole))

    scaled = pro_rata(part, of_amount, whole)

    assert 0 <= scaled <= part
    assert pro_rata(part, whole, whole) == part


@given(part=amounts, whole=st.integers(min_value=1, max_value=10**9), data=st.data())
def test_pro_rata_of_two_pieces_never_adds_up_to_more_than_the_part(part, whole, data):
    first = data.draw(st.integers(min_value=0, max_value=whole))

    assert pro_rata(part, first, whole) + pro_rata(part, whole - first, whole) <= part


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (9900, "CNY", "¥99.00"),
        (-330, "CNY", "-¥3.30"),
        (0, "CNY", "¥0.00"),
        (5, "CNY", "¥0.05"),
        (123456789, "CNY", "¥1,234,567.89"),
        (150, "USD", "$1.50"),
        (150, "JPY", "JPY 1.50"),
    ],
)
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("99", 9900),
        ("99.9", 9990),
        ("99.90", 9990),
        ("0.05", 5),
        (".5", 50),
        ("1.", 100),
        (" ¥1,234.56 ", 123456),
        ("-3.30", -330),
        ("-¥3.30", -330),
    ],
)
def test_parse_yuan_is_exact(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text", ["", "   ", "¥", "abc", "1.234", "1.2.3", "1e3", "--5", "+5", "1.x", "-", ".", "-."]
)
def test_parse_yuan_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


@given(amount=st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_yuan_reads_back_what_format_money_writes(amount):
    assert parse_yuan(format_money(amount)) == amount


def test_ensure_transition_allows_what_the_table_lists_and_refuses_the_rest():
    transitions = {"pending": {"paid"}, "paid": set()}

    ensure_transition(transitions, "pending", "paid")
    with pytest.raises(Conflict) as refused:
        ensure_transition(transitions, "paid", "pending", what="order")

    assert refused.value.status == 409
    assert refused.value.code == "invalid_transition"
    assert refused.value.details == {"current": "paid", "target": "pending"}
