from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinshop.payments.rules import (
    RETRY_FIRST_SECONDS,
    RETRY_MAX_SECONDS,
    retry_delay_seconds,
    split_refund,
)


def test_retry_delays_double_from_thirty_seconds_up_to_six_hours():
    assert [retry_delay_seconds(attempt) for attempt in range(1, 6)] == [30, 60, 120, 240, 480]
    assert retry_delay_seconds(10) == 15_360
    assert retry_delay_seconds(11) == 6 * 60 * 60
    assert retry_delay_seconds(10_000) == 6 * 60 * 60


def test_attempts_are_numbered_from_one():
    with pytest.raises(ValueError):
        retry_delay_seconds(0)


@given(st.integers(1, 1_000_000))
def test_retry_delays_never_shrink_and_stay_bounded(attempt):
    delay = retry_delay_seconds(attempt)
    assert RETRY_FIRST_SECONDS <= delay <= RETRY_MAX_SECONDS
    assert retry_delay_seconds(attempt + 1) >= delay


# ---- a refund over the payments that took the money ------------------------------


def test_a_refund_one_payment_covers_is_one_part():
    assert split_refund(5000, [("balance", 16000), ("deposit", 2000)]) == [("balance", 5000)]
    assert split_refund(16000, [("balance", 16000), ("deposit", 2000)]) == [("balance", 16000)]


def test_a_larger_refund_takes_the_first_payment_whole_then_the_next():
    assert split_refund(18000, [("balance", 16000), ("deposit", 2000)]) == [
        ("balance", 16000),
        ("deposit", 2000),
    ]
    assert split_refund(13000, [("balance", 11000), ("deposit", 2000)]) == [
        ("balance", 11000),
        ("deposit", 2000),
    ]
    assert split_refund(3000, [("balance", 0), ("deposit", 2000), ("x", 5000)]) == [
        ("deposit", 2000),
        ("x", 1000),
    ]


def test_more_than_all_payments_hold_is_not_split():
    assert split_refund(18001, [("balance", 16000), ("deposit", 2000)]) is None
    assert split_refund(1, []) is None
    assert split_refund(1, [("balance", 0)]) is None
    with pytest.raises(ValueError):
        split_refund(0, [("balance", 1)])


@given(
    st.integers(1, 10**9),
    st.lists(st.integers(-5, 10**9), max_size=5),
)
def test_parts_add_up_and_never_take_more_than_a_payment_holds(amount, available):
    left = list(enumerate(available))
    parts = split_refund(amount, left)
    if amount > sum(max(fen, 0) for fen in available):
        assert parts is None
        return
    assert parts is not None
    assert sum(part for _, part in parts) == amount
    keys = [key for key, _ in parts]
    assert keys == sorted(set(keys))  # each payment at most once, in the order given
    assert all(0 < part <= available[key] for key, part in parts)
    # every payment before the last one used is used up, and none after it is touched
    last = keys[-1]
    assert all(part == available[key] for key, part in parts[:-1]) and all(
        key <= last for key in keys
    )
    skipped = [key for key in range(last) if key not in keys]
    assert all(available[key] <= 0 for key in skipped)
    # one payment that can carry the refund alone carries it alone, if it comes first
    if available and available[0] >= amount:
        assert parts == [(0, amount)]
