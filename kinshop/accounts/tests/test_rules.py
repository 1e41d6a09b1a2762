"""Pure rules about people: tokens, ID numbers, usernames, phones, roles. No database."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from hypothesis import example, given, settings
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
        ("110105199003071239", "110105199003071239"),
        # the old 15 digits are the same person's 18 (born 19xx, check digit added)
        ("110105491231002", "11010519491231002X"),
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
        "110105194912310021",  # the check digit of these 17 digits is X
        "110105199003071238",  # one digit off
        "11010549123100X",  # 15 characters are all digits
        # full-width and Arabic-Indic digits are digits to Python's \d, not on an ID card
        "１１０１０５１９４９１２３１００２１",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢١",
    ],
)
def test_normalise_id_number_refuses_malformed_numbers(raw):
    assert rules.normalise_id_number(raw) is None


ID_BODY = st.from_regex(r"\A[0-9]{17}\Z")


@given(ID_BODY)
def test_seventeen_digits_and_their_check_character_are_a_valid_id_number(body):
    number = body + rules.id_check_character(body)

    assert rules.normalise_id_number(number) == number
    assert rules.normalise_id_number(number.lower()) == number


@given(ID_BODY, st.integers(0, 16), st.integers(1, 9))
def test_any_one_mistyped_digit_fails_the_check(body, position, shift):
    number = body + rules.id_check_character(body)
    typo = str((int(number[position]) + shift) % 10)
    mistyped = number[:position] + typo + number[position + 1 :]

    assert rules.normalise_id_number(mistyped) is None


@given(ID_BODY, st.sampled_from("0123456789X"))
def test_only_the_matching_check_character_verifies(body, last):
    expected = rules.id_check_character(body)

    assert (rules.normalise_id_number(body + last) is not None) is (last == expected)


@given(st.from_regex(r"\A[0-9]{15}\Z"))
def test_an_old_15_digit_number_becomes_the_same_persons_18(old):
    canonical = rules.normalise_id_number(old)

    assert canonical is not None and len(canonical) == 18
    assert canonical == old[:6] + "19" + old[6:] + canonical[17]
    assert rules.normalise_id_number(canonical) == canonical


def test_the_check_character_of_the_standards_example():
    # GB 11643-1999, appendix: 11010519491231002X
    assert rules.id_check_character("11010519491231002") == "X"
    assert rules.id_check_character("44030419850101001") == "3"


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
    [
        ("+86 138-0013-8000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("0086-13900000001", "13900000001"),
        ("0086 139 0000 0001", "13900000001"),
        ("8613900000001", "13900000001"),
        ("86 139-0000-0001", "13900000001"),
        ("１３９００００００01", "13900000001"),
        ("＋８６　１３９－００００－０００１", "13900000001"),
        ("(+86) 139.0000.0001", "13900000001"),
        ("+86 571 8888 6666", "057188886666"),
        ("+86 (0)571 8888 6666", "057188886666"),
        ("+852 9123 4567", "+85291234567"),
        ("00852 9123 4567", "+85291234567"),
        ("0571-8888-6666", "057188886666"),
        ("86123", "86123"),  # too short to be a mainland mobile: left for validation
        ("", ""),
    ],
)
def test_normalise_phone(raw, normal):
    assert rules.normalise_phone(raw) == normal


MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
SEPARATORS = st.sampled_from([" ", "-", "\u3000", "\u2013", "\u2014", ".", "\u00a0", "\uff0d"])
PREFIXES = st.sampled_from(["", "+86", "0086", "86", "+86 ", "0086-", "(+86)", "\uff0b86"])


@st.composite
def spellings(draw, number):
    """One way a person might type `number`: a country prefix, separators
    anywhere, and any digit full-width."""
    text = draw(PREFIXES) + number
    out = []
    for char in text:
        if char.isdigit() and draw(st.booleans()):
            char = chr(ord(char) - ord("0") + ord("\uff10"))  # full-width digit
        out.append(char)
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(SEPARATORS))
    return "".join(out)


@given(st.data(), MOBILE)
def test_no_spelling_of_a_mobile_number_escapes_its_canonical_form(data, number):
    spelled = data.draw(spellings(number))

    assert rules.normalise_phone(spelled) == number
    assert rules.is_valid_phone(rules.normalise_phone(spelled))


@given(st.data(), MOBILE)
def test_two_spellings_of_one_number_are_one_identifier(data, number):
    first, second = data.draw(spellings(number)), data.draw(spellings(number))

    assert (
        rules.shared_identifier(
            rules.identifiers(phones=[first]), rules.identifiers(phones=[second])
        )
        == "phone"
    )


@given(st.text(max_size=40))
@example("R-\u0327")  # separators kept a letter and its combining mark apart
@settings(max_examples=500)
def test_normalising_is_idempotent(text):
    once = rules.normalise_phone(text)

    assert rules.normalise_phone(once) == once


def test_identifiers_are_linked_by_any_kind_and_never_by_empty_values():
    phone = rules.identifiers(phones=["13900000001"])
    device = rules.identifiers(devices=["dev-aaaaaaaaaaaaaaaa"])
    payer = rules.identifiers(payers=[rules.payer_identifier("wechatpay", "o-123")])

    assert rules.shared_identifier(phone | device, device) == "device"
    assert rules.shared_identifier(phone | payer, payer | device) == "payer"
    assert rules.shared_identifier(phone | device | payer, phone | device | payer) == "phone"
    assert rules.shared_identifier(phone, device) == ""
    assert rules.identifiers(phones=["", " "], devices=[""], payers=[""]) == frozenset()
    assert rules.payer_identifier("sandbox", "  ") == ""
    # one payer id at two providers is two accounts
    assert (
        rules.shared_identifier(
            rules.identifiers(payers=[rules.payer_identifier("sandbox", "x1")]),
            rules.identifiers(payers=[rules.payer_identifier("wechatpay", "x1")]),
        )
        == ""
    )


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


# tokens


def test_a_password_fingerprint_changes_with_the_password_and_the_key():
    one = rules.password_fingerprint("argon2$one", "key")

    assert one == rules.password_fingerprint("argon2$one", "key")
    assert one != rules.password_fingerprint("argon2$two", "key")
    assert one != rules.password_fingerprint("argon2$one", "other key")
    assert "argon2$one" not in one


NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


@given(st.integers(0, 400), st.integers(1, 365))
def test_a_token_expires_exactly_after_its_idle_days(days_unused, idle_days):
    last_used = NOW - dt.timedelta(days=days_unused)

    idle = rules.is_token_idle(
        created_at=last_used, last_used_at=last_used, now=NOW, idle_days=idle_days
    )

    assert idle is (days_unused >= idle_days)


def test_a_never_used_token_counts_from_its_creation():
    created = NOW - dt.timedelta(days=91)

    assert rules.is_token_idle(created_at=created, last_used_at=None, now=NOW, idle_days=90)
    assert not rules.is_token_idle(
        created_at=created, last_used_at=NOW - dt.timedelta(days=1), now=NOW, idle_days=90
    )


@given(st.integers(0, 7200))
def test_a_tokens_last_use_is_written_at_most_once_an_hour(seconds_ago):
    last_used = NOW - dt.timedelta(seconds=seconds_ago)

    assert rules.needs_touch(last_used, NOW) is (seconds_ago >= 3600)
    assert rules.needs_touch(None, NOW)
