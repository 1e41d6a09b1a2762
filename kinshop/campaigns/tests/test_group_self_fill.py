"""A leader who fills their own group with accounts linked to them is flagged
(group_self_fill) as the group succeeds, with the linked members as evidence;
a group of strangers is not."""

from __future__ import annotations

import pytest

from kinshop.campaigns.tests.conftest import address, buyer
from kinshop.trust.models import FraudFlag

pytestmark = pytest.mark.django_db


def _pay(client, order_id: int, payer_id: str):
    payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"})
    assert payment.status_code == 201, payment.json()
    confirmed = client.post(
        f"/payments/{payment.json()['id']}/sandbox-confirm", {"payer_id": payer_id}
    )
    assert confirmed.status_code == 200, confirmed.json()


def _fill(group_buy, payers: list[str]) -> tuple[list, list[int], int]:
    people = [buyer() for _ in payers]
    started = people[0].post(
        f"/group-buys/{group_buy['id']}/groups", {"address": address(people[0].phone)}
    )
    assert started.status_code == 201, started.json()
    group_id = started.json()["group"]["id"]
    order_ids = [started.json()["order"]["id"]]
    for member in people[1:]:
        joined = member.post(f"/groups/{group_id}/members", {"address": address(member.phone)})
        assert joined.status_code == 201, joined.json()
        order_ids.append(joined.json()["order"]["id"])
    for person, order_id, payer in zip(people, order_ids, payers, strict=True):
        _pay(person, order_id, payer)
    return people, order_ids, group_id


def test_a_leader_filling_the_group_with_linked_accounts_is_flagged(group_buy):
    # the leader and the second member pay from the same bank account
    people, order_ids, group_id = _fill(group_buy, ["bank-leader", "bank-leader", "bank-3"])

    flag = FraudFlag.objects.get(kind="group_self_fill")
    leader, second, _ = (person.user.id for person in people)
    assert flag.status == "open"
    assert sorted(flag.order_ids) == sorted(order_ids)
    assert flag.evidence["leader_id"] == leader
    assert flag.evidence["members"] == 2
    assert list(flag.evidence["linked_members"]) == [str(second)]
    assert flag.subject == f"group:{group_id}"


def test_a_group_of_strangers_is_not_flagged(group_buy):
    _fill(group_buy, ["bank-1", "bank-2", "bank-3"])

    assert not FraudFlag.objects.filter(kind="group_self_fill").exists()


def test_the_rule_can_be_switched_off(group_buy, settings):
    settings.KINSHOP_FRAUD_GROUP_SELF_FILL = False

    _fill(group_buy, ["bank-leader", "bank-leader", "bank-leader"])

    assert not FraudFlag.objects.filter(kind="group_self_fill").exists()
