"""Live rooms through the API: the lifecycle, pins, chat, attribution through
a room (one level) and the report of a known history."""

from __future__ import annotations

import datetime as dt

import pytest

from kinshop import testing
from kinshop.core import clock
from kinshop.live.models import Event, LiveRoom
from kinshop.live.tests.conftest import ADDRESS, make_viewer
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Order

pytestmark = pytest.mark.django_db


def test_a_room_goes_scheduled_live_ended_and_nothing_else(api, shop, keeper):
    client = api(keeper)
    created = client.post(
        f"/shops/{shop.handle}/live-rooms",
        {"title": "Tea tasting", "scheduled_at": "2026-12-24T20:00:00+08:00"},
    )
    assert created.status_code == 201
    room_id = created.json()["id"]
    assert created.json()["status"] == "scheduled"

    assert client.post(f"/live-rooms/{room_id}/end").json()["code"] == "invalid_transition"
    assert client.post(f"/live-rooms/{room_id}/start").json()["status"] == "live"
    again = client.post(f"/live-rooms/{room_id}/start")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert client.post(f"/live-rooms/{room_id}/end").json()["status"] == "ended"
    assert client.post(f"/live-rooms/{room_id}/start").status_code == 409

    room = LiveRoom.objects.get(pk=room_id)
    assert [(c.from_status, c.to_status) for c in room.history.all()] == [
        ("", "scheduled"),
        ("scheduled", "live"),
        ("live", "ended"),
    ]
    assert list(Event.objects.filter(room=room).values_list("number", "kind", "data")) == [
        (1, "status", {"status": "live"}),
        (2, "status", {"status": "ended"}),
    ]


def test_only_the_shopkeeper_runs_a_room(api, shop, room):
    stranger = make_viewer("stranger")
    assert api(stranger).post(f"/live-rooms/{room['id']}/end").status_code == 403
    made = api(stranger).post(
        f"/shops/{shop.handle}/live-rooms",
        {"title": "Mine", "scheduled_at": clock.now().isoformat()},
    )
    assert made.status_code == 403
    assert api().post(f"/live-rooms/{room['id']}/end").status_code == 401


def test_a_stream_is_embedded_only_from_an_allowed_https_host(api, shop, keeper, settings):
    settings.KINSHOP_LIVE_STREAM_HOSTS = ["player.example.com"]
    client = api(keeper)
    url = f"/shops/{shop.handle}/live-rooms"
    at = clock.now().isoformat()
    ok = {"title": "t", "scheduled_at": at, "stream_url": "https://player.example.com/live/1"}
    assert client.post(url, ok).status_code == 201
    for bad in ("http://player.example.com/x", "https://evil.example.net/x", "javascript:x"):
        answer = client.post(url, {**ok, "stream_url": bad})
        assert (answer.status_code, answer.json()["code"]) == (422, "stream_not_allowed")


def test_pins_are_products_the_shop_sells_with_live_price_and_stock(
    api, shop, keeper, room, product, supplier_pair
):
    client = api(keeper)
    pinned = client.post(f"/live-rooms/{room['id']}/pins", {"product_id": product.id})
    assert pinned.status_code == 201
    assert pinned.json() == {
        "product_id": product.id,
        "title": "Hickory nuts 500 g",
        "price": 9900,
        "stock": 100,
        "in_stock": True,
    }
    _, staff = supplier_pair
    other = testing.make_product(staff=staff, title="Not sold here")
    refused = client.post(f"/live-rooms/{room['id']}/pins", {"product_id": other.id})
    assert (refused.status_code, refused.json()["code"]) == (422, "product_not_in_shop")

    public = api().get(f"/live-rooms/{room['id']}").json()
    assert [card["product_id"] for card in public["pinned"]] == [product.id]
    assert client.delete(f"/live-rooms/{room['id']}/pins/{product.id}").status_code == 204
    assert api().get(f"/live-rooms/{room['id']}").json()["pinned"] == []
    assert client.delete(f"/live-rooms/{room['id']}/pins/{product.id}").status_code == 404
    kinds = list(Event.objects.filter(room_id=room["id"]).values_list("kind", flat=True))
    assert kinds == ["status", "pin", "pin"]


def test_chat_is_one_message_a_second_and_muted_viewers_are_refused(api, keeper, room):
    viewer = make_viewer("viewer")
    client = api(viewer)
    url = f"/live-rooms/{room['id']}/messages"
    assert client.post(url, {"text": "你好!"}).status_code == 201
    fast = client.post(url, {"text": "again"})
    assert (fast.status_code, fast.json()["code"]) == (429, "slow_down")
    with clock.travel(dt.timedelta(seconds=1)):
        assert client.post(url, {"text": "again"}).status_code == 201

    for text in ("", "   ", "x" * 301):
        assert client.post(url, {"text": text}).status_code == 422
    assert client.post(url, {"text": "y" * 300}).status_code in (201, 429)

    muted = api(keeper).post(f"/live-rooms/{room['id']}/mutes", {"user_id": viewer.id})
    assert muted.status_code == 201
    with clock.travel(dt.timedelta(seconds=5)):
        refused = client.post(url, {"text": "let me speak"})
    assert (refused.status_code, refused.json()["code"]) == (403, "muted")
    assert (
        api(viewer).post(f"/live-rooms/{room['id']}/mutes", {"user_id": keeper.id}).status_code
        == 403
    )
    assert api().post(url, {"text": "anonymous"}).status_code == 401


def test_chat_needs_the_room_on_air(api, shop, keeper):
    client = api(keeper)
    made = client.post(
        f"/shops/{shop.handle}/live-rooms",
        {"title": "Later", "scheduled_at": clock.now().isoformat()},
    ).json()
    answer = api(make_viewer("early")).post(f"/live-rooms/{made['id']}/messages", {"text": "hi"})
    assert (answer.status_code, answer.json()["code"]) == (409, "room_not_live")


def test_a_message_is_kept_as_typed_and_sent_as_json_text(api, room):
    viewer = make_viewer("hacker")
    text = '<script>alert("x")</script>\n<img src=x onerror=alert(1)>'
    assert api(viewer).post(f"/live-rooms/{room['id']}/messages", {"text": text}).status_code == 201
    event = Event.objects.get(room_id=room["id"], kind="message")
    assert event.data["text"] == text
    from kinshop.live import rules

    frame = rules.sse_frame(kind="message", data=event.data, event_id=event.number)
    assert frame.count("\n") == 4  # id, event, data on one line each, then the blank line


# ---- attribution through a room, one level ----------------------------------


def _enter(api, viewer, code):
    """The viewer opens a share link of the room (the page /s/<code> does the same)."""
    answer = api(viewer).post(f"/share-links/{code}/clicks")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["channel"] == "live"


def _share(api, sharer, shop, room):
    answer = api(sharer).post("/share-links", {"shop": shop.handle, "live_room_id": room["id"]})
    assert answer.status_code == 201, answer.json()
    return answer.json()["code"]


def _buy(api, buyer, room, product, quantity=1, address=ADDRESS):
    sku = product.skus.get()
    answer = api(buyer).post(
        f"/live-rooms/{room['id']}/orders",
        {"lines": [{"sku_id": sku.id, "quantity": quantity}], "address": address},
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def _pay(api, buyer, order_id):
    client = api(buyer)
    payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    assert client.post(f"/payments/{payment['id']}/sandbox-confirm").status_code == 200


def test_a_room_link_pays_its_sharer_and_a_viewer_who_shares_on_pays_only_that_viewer(
    api, shop, room, product
):
    # given Alice shares the room, Vic comes in through her link and shares it on,
    # and Bob comes in through Vic's link
    alice = make_viewer("alice", phone="13900000001")
    vic = make_viewer("vic", phone="13900000002")
    bob = make_viewer("bob", phone="13900000003")
    alice_code = _share(api, alice, shop, room)
    _enter(api, vic, alice_code)
    vic_code = _share(api, vic, shop, room)
    assert vic_code != alice_code
    _enter(api, bob, vic_code)

    # when both buy in the room
    vic_order = _buy(api, vic, room, product, address={**ADDRESS, "phone": "13900000002"})
    bob_order = _buy(api, bob, room, product, address={**ADDRESS, "phone": "13900000003"})

    # then Vic's purchase pays Alice, Bob's pays Vic and never Alice, through live clicks
    assert [line["commission_beneficiary_id"] for line in vic_order["lines"]] == [alice.id]
    assert [line["commission_beneficiary_id"] for line in bob_order["lines"]] == [vic.id]
    channels = Order.objects.filter(pk__in=[vic_order["id"], bob_order["id"]]).values_list(
        "lines__attribution_click__channel", flat=True
    )
    assert list(channels) == ["live", "live"]


def test_a_self_purchase_through_your_own_room_link_pays_nothing(api, shop, room, product):
    alice = make_viewer("alice", phone="13900000001")
    code = _share(api, alice, shop, room)
    _enter(api, alice, code)
    order = _buy(api, alice, room, product, address={**ADDRESS, "phone": "13900000001"})
    assert [line["commission_beneficiary_id"] for line in order["lines"]] == [None]


def test_a_linked_identity_earns_nothing_through_a_room(api, shop, room, product):
    alice = make_viewer("alice", phone="13900000001")
    twin = make_viewer("twin", phone="+86 139-0000-0001")
    _enter(api, twin, _share(api, alice, shop, room))
    order = _buy(api, twin, room, product, address={**ADDRESS, "phone": "13900000009"})
    assert [line["commission_beneficiary_id"] for line in order["lines"]] == [None]


def test_buying_needs_the_room_on_air(api, keeper, room, product):
    api(keeper).post(f"/live-rooms/{room['id']}/end")
    sku = product.skus.get()
    answer = api(make_viewer("late")).post(
        f"/live-rooms/{room['id']}/orders",
        {"lines": [{"sku_id": sku.id, "quantity": 1}], "address": ADDRESS},
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "room_not_live")


def test_an_order_in_the_room_is_announced_once_paid_with_the_buyer_masked(api, room, product):
    from kinshop.live import services

    # given a viewer's order in the room, not paid yet
    buyer = make_viewer("buyer")
    buyer.display_name = "王芳芳"
    buyer.save()
    order = _buy(api, buyer, room, product, quantity=2)

    # then nothing is announced, whoever looks
    assert services.announce_paid_orders(clock.now()) == 0
    assert run_due(clock.now())["announce_live_orders"] == 0
    assert not Event.objects.filter(room_id=room["id"], kind="order").exists()

    # when it is paid, then the step announces it once, however often it runs
    _pay(api, buyer, order["id"])
    assert not Event.objects.filter(room_id=room["id"], kind="order").exists()
    assert services.announce_paid_orders(clock.now()) == 1
    assert services.announce_paid_orders(clock.now()) == 0
    assert run_due(clock.now())["announce_live_orders"] == 0
    event = Event.objects.get(room_id=room["id"], kind="order")
    assert event.data == {"buyer": "王**", "items": 2, "titles": ["Hickory nuts 500 g"]}


def test_the_jobs_announce_a_paid_room_order_and_a_room_over_gets_none(api, keeper, room, product):
    # given two paid orders in the room
    first, second = make_viewer("first"), make_viewer("second")
    _pay(api, first, _buy(api, first, room, product)["id"])
    _pay(api, second, _buy(api, second, room, product)["id"])

    # when the jobs run, then both are announced, in the order placed
    assert run_due(clock.now())["announce_live_orders"] == 2
    assert Event.objects.filter(room_id=room["id"], kind="order").count() == 2

    # and an order paid after the room ended is claimed without an event
    third = make_viewer("third")
    unpaid = _buy(api, third, room, product)
    api(keeper).post(f"/live-rooms/{room['id']}/end")
    _pay(api, third, unpaid["id"])
    assert run_due(clock.now())["announce_live_orders"] == 1
    assert run_due(clock.now())["announce_live_orders"] == 0
    assert Event.objects.filter(room_id=room["id"], kind="order").count() == 2


def test_a_room_link_of_another_shop_or_an_ended_room_is_refused(api, shop, keeper, room):
    other = testing.make_shop(handle="othershop")
    sharer = make_viewer("sharer")
    wrong = api(sharer).post("/share-links", {"shop": other.handle, "live_room_id": room["id"]})
    assert (wrong.status_code, wrong.json()["code"]) == (404, "live_room_not_found")
    api(keeper).post(f"/live-rooms/{room['id']}/end")
    late = api(sharer).post("/share-links", {"shop": shop.handle, "live_room_id": room["id"]})
    assert late.status_code == 404


def test_a_room_link_is_made_by_the_live_app_under_the_same_operation(api, shop, room, product):
    from kinshop.api import api as project_api

    sharer = make_viewer("sharer")
    both = api(sharer).post(
        "/share-links", {"shop": shop.handle, "live_room_id": room["id"], "product_id": product.id}
    )
    assert (both.status_code, both.json()["code"]) == (422, "one_target")
    gone = api(sharer).post("/share-links", {"shop": shop.handle, "live_room_id": 10**9})
    assert (gone.status_code, gone.json()["code"]) == (404, "live_room_not_found")
    first = api(sharer).post("/share-links", {"shop": shop.handle, "live_room_id": room["id"]})
    again = api(sharer).post("/share-links", {"shop": shop.handle, "live_room_id": room["id"]})
    assert first.status_code == again.status_code == 201
    assert first.json()["code"] == again.json()["code"]
    plain = api(sharer).post("/share-links", {"shop": shop.handle, "product_id": product.id})
    assert plain.status_code == 201 and plain.json()["code"] != first.json()["code"]
    operation = project_api.get_openapi_schema()["paths"]["/api/v1/share-links"]["post"]
    assert operation["operationId"] == "create_share_link"


# ---- the report ----------------------------------------------------------------


def test_the_report_of_a_known_history(api, shop, keeper, room, product, operator):
    # given 4 unique viewers, Alice's link clicked by two of them, Carol's by one;
    # Vic (Alice's) pays 2 × 99.00, Bob (Carol's) pays 1 then gets 50.00 back,
    # Dan (Alice's) never pays, and Eve (nobody's) pays 1
    from kinshop.live import services

    alice, carol = make_viewer("alice", "13900000001"), make_viewer("carol", "13900000002")
    vic, bob, dan, eve = (
        make_viewer(name, phone)
        for name, phone in (
            ("vic", "13900000011"),
            ("bob", "13900000012"),
            ("dan", "13900000013"),
            ("eve", "13900000014"),
        )
    )
    alice_code, carol_code = _share(api, alice, shop, room), _share(api, carol, shop, room)
    _enter(api, vic, alice_code)
    _enter(api, dan, alice_code)
    _enter(api, bob, carol_code)
    for viewer in (vic, bob, dan, eve):
        services.record_visit(room_id=room["id"], visitor_key="", user=viewer)
    services.record_visit(room_id=room["id"], visitor_key="", user=vic)  # counted once
    services.record_peak(room["id"], 3)
    services.record_peak(room["id"], 2)  # never lowered

    def address(user):
        return {**ADDRESS, "phone": user.phone}

    _pay(api, vic, _buy(api, vic, room, product, 2, address(vic))["id"])
    bob_order = _buy(api, bob, room, product, 1, address(bob))
    _pay(api, bob, bob_order["id"])
    _buy(api, dan, room, product, 1, address(dan))
    _pay(api, eve, _buy(api, eve, room, product, 1, address(eve))["id"])
    refund = api(bob).post(
        f"/orders/{bob_order['id']}/refunds", {"amount": 5000, "reason": "dented"}
    )
    assert refund.status_code == 201, refund.json()
    assert api(operator).post(f"/refunds/{refund.json()['id']}/approve").status_code == 200
    run_due(clock.now())

    # when the room has ended
    api(keeper).post(f"/live-rooms/{room['id']}/end")
    report = api(keeper).get(f"/live-rooms/{room['id']}/report").json()

    # then: 3 paid orders by 3 buyers of 4 viewers; GMV 19 800 + 9 900 − 5 000 + 9 900
    assert report == {
        "viewers": 4,
        "peak_viewers": 3,
        "orders": 3,
        "buyers": 3,
        "gmv": 34_600,
        "currency": "CNY",
        "conversion": 0.75,
        "top_sharers": [
            # 10 % of 19 800
            {"user_id": alice.id, "clicks": 2, "orders": 1, "gmv": 19_800, "commission": 1980},
            # 10 % of 9 900 = 990, less 990 × 5 000 / 9 900 = 500 reversed
            {"user_id": carol.id, "clicks": 1, "orders": 1, "gmv": 4_900, "commission": 490},
        ],
    }
    assert api(operator).get(f"/live-rooms/{room['id']}/report").status_code == 200
    assert api(vic).get(f"/live-rooms/{room['id']}/report").status_code == 403


def test_the_report_counts_an_order_a_room_link_brought_to_the_normal_checkout_once(
    api, shop, keeper, room, product
):
    # given Vic comes in through Alice's room link and buys in the room, and Bob
    # comes in through it too and buys through the shop's normal checkout;
    # Dan buys through the normal checkout without having come through the room
    alice = make_viewer("alice", "13900000001")
    vic, bob, dan = (
        make_viewer(name, phone)
        for name, phone in (("vic", "13900000011"), ("bob", "13900000012"), ("dan", "13900000013"))
    )
    code = _share(api, alice, shop, room)
    _enter(api, vic, code)
    _enter(api, bob, code)
    sku = product.skus.get()

    def checkout(buyer):
        answer = api(buyer).post(
            "/orders",
            {
                "shop": shop.handle,
                "lines": [{"sku_id": sku.id, "quantity": 1}],
                "address": {**ADDRESS, "phone": buyer.phone},
            },
        )
        assert answer.status_code == 201, answer.json()
        return answer.json()

    _pay(api, vic, _buy(api, vic, room, product, 1, {**ADDRESS, "phone": vic.phone})["id"])
    bobs = checkout(bob)
    _pay(api, bob, bobs["id"])
    _pay(api, dan, checkout(dan)["id"])
    assert [line["commission_beneficiary_id"] for line in bobs["lines"]] == [alice.id]

    # when the keeper reads the report
    report = api(keeper).get(f"/live-rooms/{room['id']}/report").json()

    # then Vic's and Bob's orders count, each once (Vic's both ways), Dan's not
    assert (report["orders"], report["buyers"], report["gmv"]) == (2, 2, 19_800)
    assert report["top_sharers"] == [
        {"user_id": alice.id, "clicks": 2, "orders": 2, "gmv": 19_800, "commission": 1980}
    ]
