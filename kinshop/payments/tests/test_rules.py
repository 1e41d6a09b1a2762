from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinshop.payments.rules import RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS, retry_delay_seconds


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
