"""Every campaign operation through the API, with its error codes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.campaigns.models import FlashSale, Group
from kinshop.campaigns.tests.conftest import ADDRESS, address, buyer, pay
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.core.errors import Conflict
from kinshop.ledger import queries as ledger_queries
from kinshop.ledger.models import JournalEntry
from kinshop.ops.jobs import run_due
from kinshop.orders import services as orders
from kinshop.orders.models import Order

pytestmark = pytest.mark.django_db


def start(client, group_buy_id, **extra):
    return client.post(
        f"/group-buys/{group_buy_id}/groups", {"address": address(client.phone), **extra}
    )


def join(client, group_id, **extra):
    return client.post(f"/groups/{group_id}/members", {"address": address(client.phone), **extra})


def test_a_group_succeeds_only_when_every_member_has_paid(group_buy, sku, supplier_pair):
    # given a leader and two members with seats
    leader, second, third = buyer(), buyer(), buyer()
    started = start(leader, group_buy["id"])
    assert started.status_code == 201, started.json()
    group, order = started.json()["group"], started.json()["order"]
    assert order["status"] == "pending_payment"
    assert order["group_id"] == group["id"]
    assert order["total"] == 8500  # the leader's price
    assert group == {**group, "status": "forming", "size": 3, "paid_members": 0, "seats_left": 2}
    orders = [order["id"]]
    for member in (second, third):
        joined = join(member, group["id"])
        assert joined.status_code == 201, joined.json()
        assert joined.json()["order"]["total"] == 8800
        orders.append(joined.json()["order"]["id"])
    assert testing.ApiClient().get(f"/groups/{group['id']}").json()["seats_left"] == 0

    # when two of three pay, the orders are paid but wait for the group
    pay(leader, orders[0])
    pay(second, orders[1])
    paid = leader.get(f"/orders/{orders[0]}").json()
    assert (paid["status"], paid["awaiting_group"]) == ("paid", True)
    _, staff = supplier_pair
    shipped = testing.ApiClient(staff).post(
        f"/orders/{orders[0]}/shipments", {"carrier": "SF", "tracking_no": "SF1"}
    )
    assert shipped.status_code == 409
    assert shipped.json()["code"] == "group_not_complete"
    assert testing.ApiClient().get(f"/groups/{group['id']}").json()["status"] == "forming"

    # then the last payment completes the group and every order can ship
    pay(third, orders[2])
    shown = testing.ApiClient().get(f"/groups/{group['id']}").json()
    assert (shown["status"], shown["paid_members"]) == ("succeeded", 3)
    assert not Order.objects.filter(pk__in=orders, awaiting_group=True).exists()
    shipped = testing.ApiClient(staff).post(
        f"/orders/{orders[0]}/shipments", {"carrier": "SF", "tracking_no": "SF1"}
    )
    assert shipped.status_code == 201, shipped.json()
    run_due(clock.now())
    assert Group.objects.get(pk=group["id"]).status == "succeeded"


def test_a_full_group_and_a_second_seat_are_refused(group_buy):
    leader = buyer()
    group = start(leader, group_buy["id"]).json()["group"]
    again = join(leader, group["id"])
    assert (again.status_code, again.json()["code"]) == (409, "already_in_group")
    # an account with the phone of a member is the same person
    twin = testing.ApiClient(testing.make_user(phone=leader.phone))
    twin.phone = leader.phone
    same_phone = join(twin, group["id"])
    assert (same_phone.status_code, same_phone.json()["code"]) == (409, "already_in_group")
    join(buyer(), group["id"])
    join(buyer(), group["id"])
    full = join(buyer(), group["id"])
    assert (full.status_code, full.json()["code"]) == (409, "group_full")


def test_an_unknown_group_is_404_and_a_failed_one_closed(group_buy):
    missing = join(buyer(), 999999)
    assert (missing.status_code, missing.json()["code"]) == (404, "group_not_found")
    group = start(buyer(), group_buy["id"]).json()["group"]
    run_due(clock.now() + dt.timedelta(hours=25))
    closed = join(buyer(), group["id"])
    assert (closed.status_code, closed.json()["code"]) == (409, "group_closed")


def test_an_expired_group_refunds_every_paid_member_in_full(group_buy, sku):
    # given a group of three with two paid members and one unpaid
    stock = SKU.objects.get(pk=sku.pk).stock
    leader, second, third = buyer(), buyer(), buyer()
    body = start(leader, group_buy["id"]).json()
    group_id = body["group"]["id"]
    first = body["order"]["id"]
    second_order = join(second, group_id).json()["order"]["id"]
    third_order = join(third, group_id).json()["order"]["id"]
    pay(leader, first)
    pay(second, second_order)

    # when its time runs out
    counts = run_due(clock.now() + dt.timedelta(hours=25))

    # then it failed: paid members refunded, the unpaid order cancelled, stock back
    assert counts["decide_groups"] == 1
    assert testing.ApiClient().get(f"/groups/{group_id}").json()["status"] == "failed"
    statuses = dict(Order.objects.filter(group_filter(group_id)).values_list("id", "status"))
    assert statuses == {first: "refunded", second_order: "refunded", third_order: "cancelled"}
    assert Order.objects.get(pk=first).refunded_amount == 8500
    assert SKU.objects.get(pk=sku.pk).stock == stock
    assert (
        JournalEntry.objects.filter(kind="refund", order_id__in=[first, second_order]).count() == 2
    )
    assert ledger_queries.health()["balanced"]
    # and running the jobs again changes nothing
    again = run_due(clock.now() + dt.timedelta(hours=26))
    assert (again["decide_groups"], again["unwind_failed_groups"]) == (0, 0)


def group_filter(group_id):
    from django.db.models import Q

    return Q(allotment_id=group_id)


def test_a_payment_after_the_group_failed_is_refunded(group_buy):
    leader = buyer()
    body = start(leader, group_buy["id"]).json()
    payment = leader.post(f"/orders/{body['order']['id']}/payments", {"provider": "sandbox"}).json()
    run_due(clock.now() + dt.timedelta(hours=25))
    late = leader.post(f"/payments/{payment['id']}/sandbox-confirm")
    assert late.json()["status"] == "refunded_late"
    assert Order.objects.get(pk=body["order"]["id"]).status == "cancelled"


def test_an_unpaid_seat_comes_back_at_its_deadline(group_buy, settings):
    settings.KINSHOP_PAYMENT_TIMEOUT_MINUTES = 30
    leader = buyer()
    group_id = start(leader, group_buy["id"]).json()["group"]["id"]
    join(buyer(), group_id)
    assert testing.ApiClient().get(f"/groups/{group_id}").json()["seats_left"] == 1
    run_due(clock.now() + dt.timedelta(minutes=31))
    assert testing.ApiClient().get(f"/groups/{group_id}").json()["seats_left"] == 3


def test_group_buy_prices_stay_in_the_band(keeper, shop, sku):
    ends = (clock.now() + dt.timedelta(days=1)).isoformat()
    base = {"sku_id": sku.id, "group_size": 2, "hours": 2, "ends_at": ends}
    low = keeper.post(f"/shops/{shop.handle}/group-buys", {**base, "group_price": 7999})
    assert (low.status_code, low.json()["code"]) == (422, "price_outside_band")
    cheap_leader = keeper.post(
        f"/shops/{shop.handle}/group-buys", {**base, "group_price": 9000, "leader_price": 1}
    )
    assert cheap_leader.json()["code"] == "price_outside_band"
    stranger = testing.ApiClient(testing.make_user()).post(
        f"/shops/{shop.handle}/group-buys", {**base, "group_price": 9000}
    )
    assert (stranger.status_code, stranger.json()["code"]) == (403, "not_shopkeeper")
    size = keeper.post(
        f"/shops/{shop.handle}/group-buys", {**base, "group_price": 9000, "group_size": 51}
    )
    assert size.status_code == 422


def test_an_ended_group_buy_starts_no_group(keeper, group_buy):
    ended = keeper.post(f"/group-buys/{group_buy['id']}/end")
    assert ended.json()["status"] == "ended"
    refused = start(buyer(), group_buy["id"])
    assert (refused.status_code, refused.json()["code"]) == (409, "group_closed")


def test_a_flash_sale_sells_at_its_price_within_its_limits(flash_sale, sku):
    client = buyer()
    bought = client.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 2, "address": address(client.phone)}
    )
    assert bought.status_code == 201, bought.json()
    assert (bought.json()["total"], bought.json()["campaign"]) == (16000, "flash")
    over = client.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 1, "address": address(client.phone)}
    )
    assert (over.status_code, over.json()["code"]) == (409, "limit_reached")
    # a linked account (same phone) counts with the first
    twin = testing.ApiClient(testing.make_user(phone=client.phone))
    linked = twin.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 1, "address": address(client.phone)}
    )
    assert (linked.status_code, linked.json()["code"]) == (409, "limit_reached")
    other = buyer()
    other.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 2, "address": address(other.phone)}
    )
    third = buyer()
    sold_out = third.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 2, "address": address(third.phone)}
    )
    assert (sold_out.status_code, sold_out.json()["code"]) == (409, "sold_out")
    shown = testing.ApiClient().get(f"/flash-sales/{flash_sale['id']}").json()
    assert (shown["sold"], shown["left"], shown["status"]) == (4, 1, "live")


def test_an_unpaid_flash_order_gives_its_units_back_and_a_late_payment_is_refunded(flash_sale, sku):
    client = buyer()
    stock = SKU.objects.get(pk=sku.pk).stock
    order = client.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 2, "address": address(client.phone)}
    ).json()
    payment = client.post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    run_due(clock.now() + dt.timedelta(minutes=11))
    assert testing.ApiClient().get(f"/flash-sales/{flash_sale['id']}").json()["left"] == 5
    assert SKU.objects.get(pk=sku.pk).stock == stock
    late = client.post(f"/payments/{payment['id']}/sandbox-confirm")
    assert late.json()["status"] == "refunded_late"
    assert Order.objects.get(pk=order["id"]).status == "cancelled"


def test_a_flash_sale_refuses_outside_its_window(keeper, shop, sku):
    now = clock.now()
    sale = keeper.post(
        f"/shops/{shop.handle}/flash-sales",
        {
            "sku_id": sku.id,
            "price": 8000,
            "units": 5,
            "per_buyer_limit": 1,
            "starts_at": (now + dt.timedelta(hours=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=2)).isoformat(),
            "payment_minutes": 5,
        },
    ).json()
    assert sale["status"] == "scheduled"
    early = buyer().post(f"/flash-sales/{sale['id']}/orders", {"quantity": 1, "address": ADDRESS})
    assert (early.status_code, early.json()["code"]) == (409, "not_started")
    bad = keeper.post(
        f"/shops/{shop.handle}/flash-sales",
        {
            **{"sku_id": sku.id, "units": 5, "per_buyer_limit": 1, "payment_minutes": 5},
            "price": 5000,
            "starts_at": now.isoformat(),
            "ends_at": (now + dt.timedelta(hours=2)).isoformat(),
        },
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "price_outside_band")


def test_a_flash_order_repeated_with_one_key_is_one_order(flash_sale):
    client = buyer()
    body = {"quantity": 1, "address": address(client.phone)}
    first = client.post(
        f"/flash-sales/{flash_sale['id']}/orders", body, headers={"Idempotency-Key": "k1"}
    )
    again = client.post(
        f"/flash-sales/{flash_sale['id']}/orders", body, headers={"Idempotency-Key": "k1"}
    )
    assert first.json()["id"] == again.json()["id"]
    assert testing.ApiClient().get(f"/flash-sales/{flash_sale['id']}").json()["sold"] == 1


def test_unknown_flash_sale_is_404():
    response = buyer().post("/flash-sales/999999/orders", {"quantity": 1, "address": ADDRESS})
    assert (response.status_code, response.json()["code"]) == (404, "flash_sale_not_found")
    assert testing.ApiClient().get("/flash-sales/999999").status_code == 404


def test_the_shop_ends_a_flash_sale_early(flash_sale, keeper):
    client = buyer()
    client.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 1, "address": address(client.phone)}
    )
    url = f"/flash-sales/{flash_sale['id']}/end"
    assert testing.ApiClient().post(url).status_code == 401
    stranger = buyer().post(url)
    assert (stranger.status_code, stranger.json()["code"]) == (403, "not_shopkeeper")
    missing = keeper.post("/flash-sales/999999/end")
    assert (missing.status_code, missing.json()["code"]) == (404, "flash_sale_not_found")

    ended = keeper.post(url)

    assert ended.status_code == 200, ended.json()
    assert (ended.json()["status"], ended.json()["sold"], ended.json()["left"]) == ("ended", 1, 4)
    assert ended.json()["ended_at"] is not None
    shown = testing.ApiClient().get(f"/flash-sales/{flash_sale['id']}").json()
    assert shown["status"] == "ended"
    late = buyer()
    refused = late.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 1, "address": address(late.phone)}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "ended")
    again = keeper.post(url)
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert Order.objects.filter(allotment__kind="flash").count() == 1


def test_an_ended_sales_units_are_closed_to_any_order(flash_sale, keeper, shop, sku):
    """Its allotment closes with it, in the same conditional update that takes
    units: an order racing the end (past the phase check) is refused too."""
    assert keeper.post(f"/flash-sales/{flash_sale['id']}/end").status_code == 200
    sale = FlashSale.objects.get(pk=flash_sale["id"])
    assert sale.allotment.closes_at == sale.ended_at
    with pytest.raises(Conflict) as refused, transaction.atomic():
        orders.place_campaign_order(
            buyer=testing.make_user(),
            shop=shop,
            sku_id=sku.id,
            quantity=1,
            address=orders.Address("韩梅梅", "13800138000", "杭州市", "西湖路 1 号"),
            terms=orders.CampaignTerms(allotment_id=sale.allotment_id, unit_price=sale.price),
        )
    assert refused.value.code == "ended"


def test_a_flash_sale_counts_units_sold_left_and_paid(flash_sale):
    payer, waiter = buyer(), buyer()
    paid = payer.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 2, "address": address(payer.phone)}
    ).json()
    waiter.post(
        f"/flash-sales/{flash_sale['id']}/orders", {"quantity": 1, "address": address(waiter.phone)}
    )
    assert pay(payer, paid["id"]).status_code == 200

    shown = testing.ApiClient().get(f"/flash-sales/{flash_sale['id']}").json()

    assert (shown["units"], shown["sold"], shown["left"], shown["paid"]) == (5, 3, 2, 2)
