"""In-room flash deals: a flash sale made for a live room of the same shop
that is not over, announced to every viewer by a `deal` event (kept, so a
viewer resuming with Last-Event-ID gets it), listed by get_live_room, and
bought with the room's attribution (channel live, one level)."""

from __future__ import annotations

import datetime as dt

import pytest

from kinshop import testing
from kinshop.campaigns.models import FlashSale
from kinshop.core import clock
from kinshop.live.models import Event, RoomOrder
from kinshop.live.tests.conftest import ADDRESS, make_viewer
from kinshop.live.tests.test_stream import _collect, _ids, _in_process  # noqa: F401
from kinshop.orders.models import Order

pytestmark = pytest.mark.django_db


def _deal(api, keeper, shop, product, room_id, **overrides):
    now = clock.now()
    body = {
        "sku_id": product.skus.get().id,
        "price": 8000,
        "units": 5,
        "per_buyer_limit": 2,
        "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (now + dt.timedelta(minutes=30)).isoformat(),
        "payment_minutes": 10,
        "live_room_id": room_id,
        **overrides,
    }
    return api(keeper).post(f"/shops/{shop.handle}/flash-sales", body)


def test_a_deal_in_the_room_is_announced_kept_and_listed(api, shop, keeper, room, product):
    made = _deal(api, keeper, shop, product, room["id"])

    assert made.status_code == 201, made.json()
    assert made.json()["live_room_id"] == room["id"]
    assert FlashSale.objects.get(pk=made.json()["id"]).live_room_id == room["id"]
    event = Event.objects.filter(room_id=room["id"], kind="deal").get()
    assert event.data["id"] == made.json()["id"]
    assert (event.data["price"], event.data["units"], event.data["left"]) == (8000, 5, 5)
    assert event.data["status"] == "live"
    assert event.data["title"] == "Hickory nuts 500 g · " + product.skus.get().name
    deals = api().get(f"/live-rooms/{room['id']}").json()["deals"]
    assert [(d["id"], d["left"], d["status"]) for d in deals] == [(made.json()["id"], 5, "live")]


def test_a_deal_needs_a_room_of_the_same_shop_that_is_not_over(
    api, shop, keeper, room, product, supplier_pair
):
    other_shop = testing.make_shop(handle="othershop", products=[product], price=9900)
    other_room = api(other_shop.owner).post(
        f"/shops/{other_shop.handle}/live-rooms",
        {"title": "Theirs", "scheduled_at": clock.now().isoformat()},
    )
    assert other_room.status_code == 201

    foreign = _deal(api, keeper, shop, product, other_room.json()["id"])
    assert (foreign.status_code, foreign.json()["code"]) == (422, "live_room_not_in_shop")
    missing = _deal(api, keeper, shop, product, 10**12)
    assert (missing.status_code, missing.json()["code"]) == (404, "live_room_not_found")
    stranger = _deal(api, make_viewer("stranger"), shop, product, room["id"])
    assert stranger.status_code == 403

    api(keeper).post(f"/live-rooms/{room['id']}/end")
    ended = _deal(api, keeper, shop, product, room["id"])
    assert (ended.status_code, ended.json()["code"]) == (409, "room_ended")

    assert not FlashSale.objects.exists()
    assert not Event.objects.filter(kind="deal").exists()


def test_a_flash_sale_without_a_room_is_made_as_before(api, shop, keeper, product):
    made = _deal(api, keeper, shop, product, None)
    assert made.status_code == 201, made.json()
    assert made.json()["live_room_id"] is None
    assert not Event.objects.filter(kind="deal").exists()


def test_a_reconnecting_viewer_gets_the_deal_it_missed_once(api, shop, keeper, room, product):
    made = _deal(api, keeper, shop, product, room["id"])
    deal_number = Event.objects.get(room_id=room["id"], kind="deal").number

    frames = _collect(room["id"], after=deal_number - 1, want=1)

    assert _ids(frames) == [deal_number]
    deal_frames = [f for f in frames if "event: deal" in f]
    assert len(deal_frames) == 1
    assert f'"id":{made.json()["id"]}' in deal_frames[0]


def _share(api, sharer, shop, room):
    answer = api(sharer).post("/share-links", {"shop": shop.handle, "live_room_id": room["id"]})
    assert answer.status_code == 201, answer.json()
    return answer.json()["code"]


def _enter(api, viewer, code):
    assert api(viewer).post(f"/share-links/{code}/clicks").status_code == 201


def _grab(api, buyer, sale_id, phone):
    answer = api(buyer).post(
        f"/flash-sales/{sale_id}/orders",
        {"quantity": 1, "address": {**ADDRESS, "phone": phone}},
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_a_deal_bought_in_the_room_pays_the_viewer_who_brought_the_buyer_one_level(
    api, shop, keeper, room, product
):
    # given Alice shares the room, Vic comes in through her link and shares on,
    # Bob comes in through Vic's link, and a deal runs in the room
    alice = make_viewer("alice", phone="13900000001")
    vic = make_viewer("vic", phone="13900000002")
    bob = make_viewer("bob", phone="13900000003")
    _enter(api, vic, _share(api, alice, shop, room))
    _enter(api, bob, _share(api, vic, shop, room))
    sale_id = _deal(api, keeper, shop, product, room["id"]).json()["id"]

    # when Vic and Bob grab the deal
    vic_order = _grab(api, vic, sale_id, "13900000002")
    bob_order = _grab(api, bob, sale_id, "13900000003")

    # then Vic's pays Alice, Bob's pays Vic and never Alice, at the deal's price,
    # through live clicks; the room counts both and its viewers see units left
    assert [line["commission_beneficiary_id"] for line in vic_order["lines"]] == [alice.id]
    assert [line["commission_beneficiary_id"] for line in bob_order["lines"]] == [vic.id]
    assert [line["unit_price"] for line in bob_order["lines"]] == [8000]
    channels = Order.objects.filter(pk__in=[vic_order["id"], bob_order["id"]]).values_list(
        "lines__attribution_click__channel", flat=True
    )
    assert list(channels) == ["live", "live"]
    assert set(RoomOrder.objects.filter(room_id=room["id"]).values_list("order_id", flat=True)) == {
        vic_order["id"],
        bob_order["id"],
    }
    kinds = list(
        Event.objects.filter(room_id=room["id"]).order_by("number").values_list("kind", flat=True)
    )
    assert kinds[-2:] == ["deal", "deal"]  # the units left at once; the orders once paid
    last = Event.objects.filter(room_id=room["id"], kind="deal").order_by("-number").first()
    assert last is not None and last.data["left"] == 3

    # and once Bob pays, the room hears of his order alone, once
    from kinshop.live import services

    payment = api(bob).post(f"/orders/{bob_order['id']}/payments", {"provider": "sandbox"})
    assert api(bob).post(f"/payments/{payment.json()['id']}/sandbox-confirm").status_code == 200
    assert services.announce_paid_orders(clock.now()) == 1
    assert services.announce_paid_orders(clock.now()) == 0
    orders = Event.objects.filter(room_id=room["id"], kind="order")
    assert [event.data["items"] for event in orders] == [1]


def test_a_deal_of_an_ended_room_is_an_ordinary_flash_sale_order(api, shop, keeper, room, product):
    sale_id = _deal(api, keeper, shop, product, room["id"]).json()["id"]
    api(keeper).post(f"/live-rooms/{room['id']}/end")
    order = _grab(api, make_viewer("late", phone="13900000004"), sale_id, "13900000004")
    assert [line["unit_price"] for line in order["lines"]] == [8000]
    assert not RoomOrder.objects.exists()
    assert Event.objects.filter(room_id=room["id"]).order_by("-number").first().kind == "status"


def test_a_deal_ended_early_stops_for_the_rooms_viewers(api, shop, keeper, room, product):
    sale_id = _deal(api, keeper, shop, product, room["id"]).json()["id"]
    _grab(api, make_viewer("early", phone="13900000005"), sale_id, "13900000005")

    ended = api(keeper).post(f"/flash-sales/{sale_id}/end")

    assert ended.status_code == 200, ended.json()
    assert (ended.json()["status"], ended.json()["sold"]) == ("ended", 1)
    # the viewers are told: the deal's card shows it ended
    last = Event.objects.filter(room_id=room["id"]).order_by("-number").first()
    assert (last.kind, last.data["id"], last.data["status"]) == ("deal", sale_id, "ended")
    deals = api().get(f"/live-rooms/{room['id']}").json()["deals"]
    assert [(d["id"], d["status"]) for d in deals] == [(sale_id, "ended")]
    # and nobody buys it any more, in the room or outside it
    late = api(make_viewer("late", phone="13900000006")).post(
        f"/flash-sales/{sale_id}/orders",
        {"quantity": 1, "address": {**ADDRESS, "phone": "13900000006"}},
    )
    assert (late.status_code, late.json()["code"]) == (409, "ended")
    assert Order.objects.filter(allotment__isnull=False).count() == 1
