"""`testing.assert_query_count`: exact, and on failure it shows every statement."""

from __future__ import annotations

import re

import pytest

from kinshop import testing
from kinshop.accounts.models import User

pytestmark = pytest.mark.django_db


def _two_queries():
    User.objects.filter(username="ada").exists()
    User.objects.filter(username="grace").count()


def test_an_exact_count_passes_and_yields_the_captured_statements():
    with testing.assert_query_count(2) as captured:
        _two_queries()

    assert len(captured.captured_queries) == 2


def test_zero_queries_can_be_asserted():
    with testing.assert_query_count(0):
        pass


@pytest.mark.parametrize("expected", [1, 3])
def test_one_query_off_fails_and_lists_every_statement_numbered(expected):
    with pytest.raises(AssertionError) as failure, testing.assert_query_count(expected):
        _two_queries()

    message = str(failure.value)
    assert message.startswith(f"2 queries run, {expected} expected (")
    statements = re.findall(r"^(\d+)\. (.*)$", message, flags=re.MULTILINE)
    assert [number for number, _ in statements] == ["1", "2"]
    assert "'ada'" in statements[0][1] and "LIMIT 1" in statements[0][1]
    assert "'grace'" in statements[1][1] and "COUNT(*)" in statements[1][1]


def test_an_exception_inside_the_block_is_not_hidden_by_the_count():
    with pytest.raises(ZeroDivisionError), testing.assert_query_count(5):
        _two_queries()
        1 / 0  # noqa: B018
