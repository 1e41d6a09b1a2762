"""The live room's page and the shop console's rooms."""

from __future__ import annotations

import pytest
from django.test import Client

from kinshop import testing
from kinshop.core import clock
from kinshop.live import services
from kinshop.live.models import LiveRoom, Message, Participant, RoomOrder
from kinshop.sharing.models import Click, ShareLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(shop):
    room = services.create_room(
        user=shop.owner, shop=shop, title="Harvest live", scheduled_at=clock.now()
    )
    return services.start_room(user=shop.owner, room_id=room.pk)


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_room_page_shows_pins_and_chat_escaped(room, product, shop):
    services.pin_product(user=shop.owner, room_id=room.pk, product_id=product.id)
    viewer = testing.make_user("viewer")
    services.post_message(user=viewer, room_id=room.pk, text="<script>alert(1)</script>")

    page = browser().get(f"/live/{room.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "Hickory nuts 500 g" in html
    assert 'data-last-event-id="3"' in html
    assert "kinshop/live.js" in html
    assert "<script>" not in html.split("<body")[1]  # no inline script under the CSP


def test_chat_from_the_page_answers_json_to_the_script(room):
    viewer = testing.make_user("viewer")
    client = browser(viewer)
    headers = {"X-Requested-With": "fetch"}
    first = client.post(f"/live/{room.pk}/say/", {"text": "你好"}, headers=headers)
    assert first.status_code == 201
    again = client.post(f"/live/{room.pk}/say/", {"text": "again"}, headers=headers)
    assert (again.status_code, again.json()["code"]) == (429, "slow_down")
    assert Message.objects.filter(room=room).count() == 1
    anonymous = browser().post(f"/live/{room.pk}/say/", {"text": "hi"}, headers=headers)
    assert anonymous.status_code == 401
    assert browser().post(f"/live/{room.pk}/say/", {"text": "hi"}).status_code == 302


def test_a_viewer_gets_their_own_room_link_and_it_lands_in_the_room(room):
    viewer = testing.make_user("viewer")
    assert browser(viewer).post(f"/live/{room.pk}/share/").status_code == 302
    link = ShareLink.objects.get(sharer=viewer)
    assert (link.live_room_id, link.target) == (room.pk, "live")
    page = browser(viewer).get(f"/live/{room.pk}/")
    assert f"/s/{link.code}" in page.content.decode()

    friend = browser()
    landing = friend.get(f"/s/{link.code}")
    assert (landing.status_code, landing["Location"]) == (302, f"/live/{room.pk}/")
    assert Click.objects.get(link=link).channel == "live"


def test_buying_in_the_room_goes_to_payment(room, product, shop):
    services.pin_product(user=shop.owner, room_id=room.pk, product_id=product.id)
    buyer = testing.make_user("buyer")
    answer = browser(buyer).post(
        f"/live/{room.pk}/buy/",
        {
            "sku": product.skus.get().id,
            "quantity": 2,
            "name": "王芳",
            "phone": "13800138000",
            "region": "浙江省杭州市",
            "detail": "西湖路 1 号",
        },
    )
    order = RoomOrder.objects.get(room=room).order
    assert (answer.status_code, answer["Location"]) == (302, f"/orders/{order.id}/pay/")
    assert order.total == 2 * 9900


def test_the_keeper_schedules_starts_pins_mutes_ends_and_sees_the_report(shop, product):
    keeper = browser(shop.owner)
    made = keeper.post(
        "/console/shop/live/", {"title": "Tea evening", "scheduled_at": "2026-12-24T20:00"}
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    room = LiveRoom.objects.get(title="Tea evening")
    assert keeper.post(f"/console/shop/live/{room.pk}/start/").status_code == 302
    assert (
        keeper.post(f"/console/shop/live/{room.pk}/pin/", {"product": product.id}).status_code
        == 302
    )
    viewer = testing.make_user("viewer")
    services.post_message(user=viewer, room_id=room.pk, text="hello")
    assert (
        keeper.post(f"/console/shop/live/{room.pk}/mute/", {"user": viewer.id}).status_code == 302
    )
    assert Participant.objects.get(room=room, user=viewer).is_muted
    assert keeper.post(f"/console/shop/live/{room.pk}/end/").status_code == 302
    room.refresh_from_db()
    assert (room.status, [p.product_id for p in room.pins.all()]) == ("ended", [product.id])

    page = keeper.get(f"/console/shop/live/{room.pk}/")
    assert page.status_code == 200
    assert 'data-testid="live-report"' in page.content.decode()
    assert keeper.get("/console/shop/live/").status_code == 200


def test_another_keeper_cannot_run_the_room(room):
    other = testing.make_shop(handle="othershop").owner
    client = browser(other)
    assert client.get(f"/console/shop/live/{room.pk}/").status_code == 404
    assert client.post(f"/console/shop/live/{room.pk}/end/").status_code == 404
    room.refresh_from_db()
    assert room.status == "live"


def _room_deal(room, shop, product):
    import datetime as dt

    now = clock.now()
    return services.create_flash_sale(
        user=shop.owner,
        shop=shop,
        sku_id=product.skus.get().id,
        price=8000,
        units=5,
        per_buyer_limit=2,
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(minutes=30),
        payment_minutes=10,
        live_room_id=room.pk,
    )


def test_the_room_page_shows_its_running_deal_and_buys_it(room, product, shop):
    sale = _room_deal(room, shop, product)
    buyer = testing.make_user("buyer")
    client = browser(buyer)

    html = client.get(f"/live/{room.pk}/").content.decode()
    assert f'data-deal="{sale.pk}"' in html
    assert f'data-ends-at="{sale.ends_at.isoformat()}"' in html
    assert "data-deal-left>5 " in html
    assert 'data-testid="live-deal-buy"' in html

    address = {
        "name": "王芳",
        "phone": "13800138000",
        "region": "浙江省杭州市",
        "detail": "西湖路 1 号",
    }
    answer = client.post(f"/live/{room.pk}/deal/", {"sale": sale.pk, "quantity": 1, **address})
    order = RoomOrder.objects.get(room=room).order
    assert (answer.status_code, answer["Location"]) == (302, f"/orders/{order.id}/pay/")
    assert order.total == 8000


def test_a_deal_of_another_room_is_not_bought_through_this_one(room, product, shop):
    other = services.start_room(
        user=shop.owner,
        room_id=services.create_room(
            user=shop.owner, shop=shop, title="Other", scheduled_at=clock.now()
        ).pk,
    )
    sale = _room_deal(other, shop, product)
    address = {
        "name": "王芳",
        "phone": "13800138000",
        "region": "浙江省杭州市",
        "detail": "西湖路 1 号",
    }
    answer = browser(testing.make_user("buyer")).post(
        f"/live/{room.pk}/deal/", {"sale": sale.pk, "quantity": 1, **address}
    )
    assert answer.status_code == 404
    assert not RoomOrder.objects.exists()
