from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from kinshop.live import rules

NOW = dt.datetime(2026, 12, 24, 20, 0, tzinfo=dt.UTC)


def test_a_message_is_trimmed_and_between_1_and_300_characters():
    assert rules.clean_message("  你好  ") == "你好"
    assert rules.clean_message("a\x00b\u200bc\nd") == "abc\nd"
    assert rules.clean_message("x" * 300) == "x" * 300
    for bad in ("", "   ", "\x00\x01", "x" * 301):
        try:
            rules.clean_message(bad)
        except ValueError as error:
            assert str(error) == "message_length"
        else:
            raise AssertionError(bad)


@given(st.text(max_size=400))
def test_a_kept_message_is_never_empty_nor_too_long(text):
    try:
        kept = rules.clean_message(text)
    except ValueError:
        return
    assert 1 <= len(kept) <= 300
    assert kept == kept.strip()


def test_one_message_a_second():
    assert rules.may_speak(last_message_at=None, now=NOW)
    assert not rules.may_speak(last_message_at=NOW - dt.timedelta(milliseconds=999), now=NOW)
    assert rules.may_speak(last_message_at=NOW - dt.timedelta(seconds=1), now=NOW)


def test_names_are_masked_but_the_first_character():
    assert rules.mask_name("王芳") == "王**"
    assert rules.mask_name("amy li") == "a**"
    assert rules.mask_name("") == "**"


@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip()))
def test_a_masked_name_shows_one_character(name):
    masked = rules.mask_name(name)
    assert masked[0] == name.strip()[0]
    assert masked[1:] == "**"


def test_streams_come_from_allowed_https_hosts_only():
    hosts = ["player.example.com"]
    assert rules.stream_host_allowed("", hosts)
    assert rules.stream_host_allowed("https://Player.Example.com/x?y=1", hosts)
    assert not rules.stream_host_allowed("http://player.example.com/x", hosts)
    assert not rules.stream_host_allowed("https://player.example.com.evil.net/", hosts)
    assert not rules.stream_host_allowed("javascript:alert(1)", hosts)


def test_last_event_id_is_an_id_or_nothing():
    assert rules.parse_last_event_id("42") == 42
    assert rules.parse_last_event_id(" 7 ") == 7
    for bad in (None, "", "-1", "1e3", "٣", "9" * 20, "99999999999999999999"):
        assert rules.parse_last_event_id(bad) is None


@given(
    st.dictionaries(st.text(max_size=10), st.text(max_size=50), max_size=5), st.integers(0, 10**6)
)
def test_an_event_frame_is_one_event_whatever_the_text(data, number):
    frame = rules.sse_frame(kind="message", data=data, event_id=number)
    assert frame.endswith("\n\n") and frame.count("\n\n") == 1
    fields = frame[:-2].split("\n")
    assert fields[0] == f"id: {number}" and fields[1] == "event: message"
    assert json.loads(fields[2].removeprefix("data: ")) == data


def test_conversion_is_buyers_over_viewers():
    assert rules.conversion(buyers=3, viewers=4) == 0.75
    assert rules.conversion(buyers=1, viewers=3) == 0.3333
    assert rules.conversion(buyers=0, viewers=0) == 0.0


@given(st.integers(0, 10**9), st.integers(0, 3000), st.data())
def test_net_commission_never_exceeds_the_commission_and_is_zero_when_all_is_refunded(
    line_total, rate_bp, data
):
    refunded = data.draw(st.integers(0, line_total))
    commission = line_total * rate_bp // 10_000
    net = rules.net_commission(line_total=line_total, refunded=refunded, rate_bp=rate_bp)
    assert 0 <= net <= commission
    assert rules.net_commission(line_total=line_total, refunded=line_total, rate_bp=rate_bp) == 0
    assert rules.net_commission(line_total=line_total, refunded=0, rate_bp=rate_bp) == commission
