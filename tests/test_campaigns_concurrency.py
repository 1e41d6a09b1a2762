"""Campaigns under a crowd, on PostgreSQL with real threads and connections:
N+1 joiners of an N-seat group get exactly N seats; many buyers for few flash
units never oversell nor pass the per-buyer limit; a payment racing the group's
expiry ends in one outcome."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.campaigns import services as campaigns
from kinshop.campaigns.models import Group
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.ledger import queries as ledger_queries
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Allotment, Order
from kinshop.payments.models import Payment
from tests.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def address(phone: str) -> dict:
    return {"name": "李雷", "phone": phone, "region": "上海市", "detail": "南京东路 1 号"}


@pytest.fixture
def campaign_shop():
    with transaction.atomic():
        _, staff = testing.make_supplier()
        product = testing.make_product(staff=staff, title="拼团 Together")
        sku = product.skus.get()
        SKU.objects.filter(pk=sku.pk).update(stock=1000)
        shop = testing.make_shop(products=[product], price=9900)
    return shop, sku


def clients(count: int, start: int = 0) -> list[testing.ApiClient]:
    made = []
    for index in range(count):
        phone = f"139{start + index:08d}"
        client = testing.ApiClient(testing.make_user(phone=phone))
        client.phone = phone  # type: ignore[attr-defined]
        made.append(client)
    return made


def group_buy(shop, sku, size: int):
    with transaction.atomic():
        return campaigns.create_group_buy(
            user=shop.owner,
            shop=shop,
            sku_id=sku.id,
            group_price=8800,
            group_size=size,
            hours=2,
            ends_at=clock.now() + dt.timedelta(days=1),
        )


def test_six_simultaneous_joiners_of_a_five_seat_group_get_five_seats(campaign_shop):
    shop, sku = campaign_shop
    offer = group_buy(shop, sku, 6)
    leader, *joiners = clients(7)
    group_id = leader.post(
        f"/group-buys/{offer.id}/groups", {"address": address(leader.phone)}
    ).json()["group"]["id"]

    results = run_together(
        6,
        lambda i: joiners[i].post(
            f"/groups/{group_id}/members", {"address": address(joiners[i].phone)}
        ),
    )

    statuses = Counter(getattr(result, "status_code", repr(result)) for result in results)
    assert statuses == {201: 5, 409: 1}
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"group_full"}
    allotment = Allotment.objects.get(pk=group_id)
    assert (allotment.taken, allotment.limit) == (6, 6)
    assert Order.objects.filter(allotment_id=group_id).count() == 6


def test_sixty_buyers_for_twenty_flash_units(campaign_shop):
    shop, sku = campaign_shop
    stock = SKU.objects.get(pk=sku.pk).stock
    now = clock.now()
    with transaction.atomic():
        sale = campaigns.create_flash_sale(
            user=shop.owner,
            shop=shop,
            sku_id=sku.id,
            price=8000,
            units=20,
            per_buyer_limit=2,
            starts_at=now - dt.timedelta(minutes=1),
            ends_at=now + dt.timedelta(hours=1),
            payment_minutes=5,
        )
    # 15 distinct people, each with four accounts sharing one phone (60
    # accounts, 60 connections: the server is shared, its connections are not endless)
    buyers = clients(15, start=1000)
    accounts = []
    for person in buyers:
        accounts.append(person)
        for _ in range(3):
            twin = testing.ApiClient(testing.make_user(phone=person.phone))
            twin.phone = person.phone  # type: ignore[attr-defined]
            accounts.append(twin)

    results = run_together(
        len(accounts),
        lambda i: accounts[i].post(
            f"/flash-sales/{sale.id}/orders",
            {"quantity": 1, "address": address(accounts[i].phone)},
        ),
    )

    statuses = Counter(getattr(result, "status_code", repr(result)) for result in results)
    assert statuses[201] == 20, statuses
    assert set(statuses) <= {201, 409}
    assert {r.json()["code"] for r in results if r.status_code == 409} <= {
        "sold_out",
        "limit_reached",
    }
    orders = Order.objects.filter(allotment_id=sale.allotment_id)
    assert sum(o.allotment_units for o in orders) == 20
    per_phone = Counter(order.recipient_phone for order in orders)
    assert max(per_phone.values()) <= 2
    assert SKU.objects.get(pk=sku.pk).stock == stock - 20
    assert Allotment.objects.get(pk=sale.allotment_id).taken == 20


@pytest.mark.parametrize("attempt", range(3))
def test_a_payment_racing_the_group_expiry_ends_in_one_outcome(campaign_shop, attempt):
    shop, sku = campaign_shop
    offer = group_buy(shop, sku, 2)
    leader, member = clients(2, start=2000 + attempt * 10)
    body = leader.post(f"/group-buys/{offer.id}/groups", {"address": address(leader.phone)}).json()
    group_id, first = body["group"]["id"], body["order"]["id"]
    second = member.post(f"/groups/{group_id}/members", {"address": address(member.phone)}).json()
    second = second["order"]["id"]
    assert leader.post(f"/orders/{first}/payments", {"provider": "sandbox"}).status_code == 201
    leader_payment = Payment.objects.get(order_id=first)
    leader.post(f"/payments/{leader_payment.pk}/sandbox-confirm")
    payment = member.post(f"/orders/{second}/payments", {"provider": "sandbox"}).json()
    # the group's time is up a moment from now: the job runs "then", the payment now
    Allotment.objects.filter(pk=group_id).update(closes_at=clock.now() + dt.timedelta(seconds=1))
    Group.objects.filter(pk=group_id).update(expires_at=clock.now() + dt.timedelta(seconds=1))
    Order.objects.filter(pk=second).update(payment_deadline=clock.now() + dt.timedelta(seconds=1))

    def act(index: int):
        if index == 0:
            return member.post(f"/payments/{payment['id']}/sandbox-confirm")
        return run_due(clock.now() + dt.timedelta(hours=3))

    run_together(2, act)
    run_due(clock.now() + dt.timedelta(hours=3))

    group = Group.objects.get(pk=group_id)
    orders = dict(Order.objects.filter(allotment_id=group_id).values_list("id", "status"))
    if group.status == Group.Status.SUCCEEDED:
        assert orders == {first: "paid", second: "paid"}
        assert not Order.objects.filter(allotment_id=group_id, awaiting_group=True).exists()
    else:
        assert group.status == Group.Status.FAILED
        assert orders[first] == "refunded"
        assert orders[second] in ("refunded", "cancelled")
        if orders[second] == "cancelled":
            assert Payment.objects.get(pk=payment["id"]).status == "refunded_late"
    assert ledger_queries.health()["balanced"]
