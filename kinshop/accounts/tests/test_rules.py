"""Pure rules about people: tokens, ID numbers, usernames, phones, roles. No database."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinshop.accounts import rules


def test_a_new_token_is_prefixed_long_and_never_repeats():
    tokens = {rules.new_token() for _ in range(50)}

    assert len(tokens) == 50
    assert all(token.startswith("ks_") and len(token) == 3 + 43 for token in tokens)


def test_a_token_is_stored_as_its_sha256():
    token = "ks_example"

    assert rules.hash_token(token) == hashlib.sha256(b"ks_example").hexdigest()
    assert rules.hash_token(token) != rules.hash_token("ks_example2")
    assert token not in rules.hash_token(token)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (" 110105 1949 1231 002x ", "11010519491231002X"),
        ("110105194912310021", "110105194912310021"),
        ("110105491231002", "110105491231002"),
    ],
)
def test_normalise_id_number_gives_the_canonical_form(raw, canonical):
    assert rules.normalise_id_number(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1101051949123100",  # 16 digits
        "1101051949123100211",  # 19 digits
        "X10105194912310021",  # X only allowed last
        "11010519491231002Y",
        "11010549123100X",  # 15 characters are all digits
        # full-width and Arabic-Indic digits are digits to Python's \d, not on an ID card
        "１１０１０５１９４９１２３１００２１",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢١",
    ],
)
def test_normalise_id_number_refuses_malformed_numbers(raw):
    assert rules.normalise_id_number(raw) is None


def test_mask_id_number_shows_the_first_three_and_last_four():
    assert rules.mask_id_number("11010519491231002X") == "110***********002X"
    assert rules.mask_id_number("110105491231002") == "110********1002"


@given(st.from_regex(r"\A[0-9]{17}[0-9X]\Z"))
def test_a_masked_id_number_keeps_its_length_and_hides_the_middle(id_number):
    masked = rules.mask_id_number(id_number)

    assert len(masked) == 18
    assert masked[:3] == id_number[:3] and masked[-4:] == id_number[-4:]
    assert masked[3:-4] == "*" * 11


def test_the_id_number_hash_is_keyed():
    number = "11010519491231002X"

    assert rules.hash_id_number(number, "one") == rules.hash_id_number(number, "one")
    assert rules.hash_id_number(number, "one") != rules.hash_id_number(number, "two")
    assert number not in rules.hash_id_number(number, "one")


@pytest.mark.parametrize(
    ("username", "valid"),
    [
        ("ann", True),
        ("ann.lee@example+x-y_z", True),
        ("张三丰", True),
        ("an", False),
        ("a" * 151, False),
        ("ann lee", False),
        ("ann/lee", False),
        ("", False),
    ],
)
def test_is_valid_username(username, valid):
    assert rules.is_valid_username(username) is valid


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("+86 138-0013-8000", "13800138000"), ("138 0013 8000", "13800138000"), ("", "")],
)
def test_normalise_phone(raw, normal):
    assert rules.normalise_phone(raw) == normal


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        ("13800138000", True),
        ("+4915112345678", True),
        ("12345", False),
        ("1380013800a", False),
        ("１３８００１３８０００", False),  # full-width digits
    ],
)
def test_is_valid_phone(phone, valid):
    assert rules.is_valid_phone(phone) is valid


def test_everyone_is_a_consumer_and_a_sharer_other_roles_follow_from_what_they_are():
    assert rules.roles_for(is_operator=False, has_shop=False, is_supplier_staff=False) == [
        "consumer",
        "sharer",
    ]
    assert rules.roles_for(is_operator=True, has_shop=True, is_supplier_staff=True) == [
        "consumer",
        "sharer",
        "shopkeeper",
        "supplier",
        "operator",
    ]
