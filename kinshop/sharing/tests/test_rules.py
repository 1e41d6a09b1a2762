from hypothesis import given
from hypothesis import strategies as st

from kinshop.accounts.tests.test_rules import MOBILE, spellings
from kinshop.sharing import rules
from kinshop.sharing.rules import Person


def test_codes_are_ten_unambiguous_characters():
    codes = {rules.new_code() for _ in range(500)}

    assert len(codes) == 500
    for code in codes:
        assert len(code) == rules.CODE_LENGTH == 10
        assert set(code) <= set(rules.CODE_ALPHABET)
        assert rules.is_well_formed_code(code)
    assert not set("0O1Il") & set(rules.CODE_ALPHABET)


def test_malformed_codes_are_recognised():
    assert not rules.is_well_formed_code("")
    assert not rules.is_well_formed_code("bcdfg2345")  # too short
    assert not rules.is_well_formed_code("bcdfg23450")  # 0 is not in the alphabet
    assert not rules.is_well_formed_code("BCDFG23456")


def test_channels():
    assert [c for c in ("link", "qr", "live", "offline") if rules.is_valid_channel(c)] == [
        "link",
        "qr",
        "live",
        "offline",
    ]
    assert not rules.is_valid_channel("email")
    assert not rules.is_valid_channel("")


def test_policy_defaults_to_last_click():
    assert rules.policy_of("binding") == "binding"
    assert rules.policy_of("last_click") == "last_click"
    assert rules.policy_of("pyramid") == "last_click"


def person(id, phone="", email="", shipped=()):
    return Person.of(id=id, phone=phone, email=email, recipient_phones=shipped)


def test_a_stranger_is_eligible():
    assert (
        rules.ineligibility(
            sharer=person(1, "13800000001", "a@x.cn"),
            buyer=person(2, "13900000002", "b@x.cn"),
            shopkeeper_id=3,
        )
        == ""
    )


def test_self_referral_and_shopkeeper():
    assert (
        rules.ineligibility(sharer=person(1), buyer=person(1), shopkeeper_id=3) == "self_referral"
    )
    assert rules.ineligibility(sharer=person(3), buyer=person(2), shopkeeper_id=3) == "shopkeeper"


def test_linked_identities():
    def refusal(sharer, buyer):
        return rules.ineligibility(sharer=sharer, buyer=buyer, shopkeeper_id=99)

    assert refusal(person(1, "+86 13800000001"), person(2, "13800000001")) == "linked_identity"
    assert refusal(person(1, email="Me@X.cn "), person(2, email="me@x.cn")) == "linked_identity"
    assert refusal(person(1, "13800000001"), person(2, shipped=["138 0000 0001"])) == (
        "linked_identity"
    )
    assert refusal(person(1, shipped=["13900000002"]), person(2, "13900000002")) == (
        "linked_identity"
    )
    # Empty phones and e-mails never link two people.
    assert refusal(person(1), person(2)) == ""
    assert refusal(person(1, shipped=[""]), person(2)) == ""


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_commission_rounds_down_and_never_exceeds_the_line(line_total, rate_bp):
    commission = rules.commission_of(line_total, rate_bp)

    assert 0 <= commission <= line_total
    assert commission * 10_000 <= line_total * rate_bp < (commission + 1) * 10_000


@given(st.data(), MOBILE)
def test_no_spelling_of_the_sharers_phone_escapes_the_linked_identity_rule(data, number):
    # given a sharer whose account phone is one spelling, and a buyer who ships
    # to another spelling of it (or has it as their own phone)
    sharer = Person.of(id=1, phone=data.draw(spellings(number)))
    ships_to_it = Person.of(id=2, recipient_phones=[data.draw(spellings(number))])
    owns_it = Person.of(id=3, phone=data.draw(spellings(number)))

    for buyer in (ships_to_it, owns_it):
        assert rules.ineligibility(sharer=sharer, buyer=buyer, shopkeeper_id=99) == (
            "linked_identity"
        )
        # nor as the shopkeeper's second account
        assert rules.refusal(sharer=sharer, buyer=Person(id=4), shopkeeper=buyer).code == (
            "shopkeeper"
        )


def test_a_device_or_payer_account_in_common_links_two_people():
    sharer = Person.of(id=1, devices=["device-aaaaaaaaaaaaaaaa"], payers=["wechatpay:o-1"])

    by_device = rules.refusal(
        sharer=sharer,
        buyer=Person.of(id=2, devices=["device-aaaaaaaaaaaaaaaa"]),
        shopkeeper=Person(9),
    )
    by_payer = rules.refusal(
        sharer=sharer, buyer=Person.of(id=2, payers=["wechatpay:o-1"]), shopkeeper=Person(9)
    )
    stranger = rules.refusal(
        sharer=sharer,
        buyer=Person.of(id=2, devices=["device-bbbbbbbbbbbbbbbb"], payers=["sandbox:o-1"]),
        shopkeeper=Person(9),
    )

    assert (by_device.code, by_device.evidence) == (
        "linked_identity",
        "the sharer and the buyer: same device",
    )
    assert (by_payer.code, by_payer.evidence) == (
        "linked_identity",
        "the sharer and the buyer: same payer",
    )
    assert not stranger
