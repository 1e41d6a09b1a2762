"""The campaign pages: the product page's campaign box, a group buy, a group
reached from a share, a flash sale, and the shop console's campaigns."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client

from kinshop import testing
from kinshop.campaigns import services
from kinshop.campaigns.models import FlashSale, GroupBuy, Presale
from kinshop.core import clock
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Order
from kinshop.sharing import services as sharing
from kinshop.web.tests.helpers import running_flash_sale

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "韩梅梅", "region": "杭州市西湖区", "detail": "西湖路 1 号", "quantity": "1"}
_phones = iter(range(13700000000, 13799999999))


def member_form() -> dict:
    return {**ADDRESS, "phone": str(next(_phones))}


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def group_buy(shop, sku) -> GroupBuy:
    return services.create_group_buy(
        user=shop.owner,
        shop=shop,
        sku_id=sku.id,
        group_price=8800,
        leader_price=8500,
        group_size=3,
        hours=24,
        ends_at=clock.now() + dt.timedelta(days=7),
    )


@pytest.fixture
def flash_sale(shop, sku) -> FlashSale:
    return running_flash_sale(shop=shop, sku=sku)


def _start(group_buy, user) -> int:
    """The user starts a group through the page; returns the group's id."""
    response = browser(user).post(f"/group-buys/{group_buy.pk}/", member_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.filter(buyer=user).latest("id")
    assert (
        response["Location"].endswith(f"/orders/{order.pk}/pay/")
        or str(order.pk) in response["Location"]
    )
    return order.allotment_id


# ---- the product page ---------------------------------------------------------------------


def test_the_product_page_shows_the_group_price_seats_and_flash_units(
    shop, product, group_buy, flash_sale
):
    leader = testing.make_user("leader")
    group_id = _start(group_buy, leader)

    page = browser().get(f"/shop/nutshop/p/{product.id}/").content.decode()

    assert 'data-testid="campaigns"' in page
    assert "¥88.00" in page and "¥80.00" in page
    assert "还剩 2 个名额" in page  # three seats, the leader took one
    assert f'href="/groups/{group_id}/"' in page
    assert f'href="/group-buys/{group_buy.pk}/"' in page
    assert f'href="/flash-sales/{flash_sale.pk}/"' in page
    assert "data-countdown=" in page and "kinshop/campaigns.js" in page
    assert "<script>" not in page  # countdowns run from the static file (CSP)


def test_without_a_campaign_the_product_page_has_no_campaign_box(shop, product):
    page = browser().get(f"/shop/nutshop/p/{product.id}/").content.decode()
    assert 'data-testid="campaigns"' not in page and "campaigns.js" not in page


def test_an_ended_group_buy_leaves_the_product_page(shop, product, group_buy):
    services.end_group_buy(user=shop.owner, group_buy_id=group_buy.pk)
    page = browser().get(f"/shop/nutshop/p/{product.id}/").content.decode()
    assert 'data-testid="campaigns"' not in page


# ---- a group: start, share, join ----------------------------------------------------------


def test_a_signed_out_visitor_is_asked_to_sign_in_to_start_or_join(shop, group_buy):
    page = browser().get(f"/group-buys/{group_buy.pk}/").content.decode()
    assert 'data-testid="campaign-sign-in"' in page and 'data-testid="start-group"' not in page
    response = browser().post(f"/group-buys/{group_buy.pk}/", member_form())
    assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
    assert not Order.objects.exists()


def test_a_buyer_starts_a_group_at_the_leader_price_and_a_friend_joins_from_the_share(
    shop, product, group_buy
):
    leader = testing.make_user("leader")
    group_id = _start(group_buy, leader)
    leader_order = Order.objects.get(buyer=leader)
    assert leader_order.total == 8500

    page = browser(leader).get(f"/groups/{group_id}/").content.decode()
    assert f"http://testserver/groups/{group_id}/" in page  # the link the leader shares
    assert 'data-testid="share-group"' in page
    assert "还剩 2 个名额" in page

    # a friend who came through a sharer's link keeps that attribution when joining
    sharer = testing.make_user("amei")
    link = sharing.create_share_link(sharer=sharer, shop=shop, product=product)
    friend = browser(testing.make_user("friend"))
    friend.get(f"/s/{link.code}")
    response = friend.post(f"/groups/{group_id}/", member_form())

    assert response.status_code == 302
    joined = Order.objects.filter(allotment_id=group_id).exclude(buyer=leader).get()
    assert joined.total == 8800
    assert joined.lines.get().attribution_click is not None
    assert "还剩 1 个名额" in browser().get(f"/groups/{group_id}/").content.decode()


def test_joining_a_group_twice_is_refused_in_the_persons_language(shop, group_buy):
    leader = testing.make_user("leader")
    group_id = _start(group_buy, leader)

    page = browser(leader).post(f"/groups/{group_id}/", member_form())

    assert page.status_code == 200
    assert 'data-testid="campaign-error"' in page.content.decode()
    assert Order.objects.filter(allotment_id=group_id).count() == 1


def test_a_full_group_offers_to_start_another(shop, group_buy):
    group_id = _start(group_buy, testing.make_user("leader"))
    for name in ("second", "third"):
        assert (
            browser(testing.make_user(name)).post(f"/groups/{group_id}/", member_form()).status_code
            == 302
        )

    page = browser(testing.make_user("late")).get(f"/groups/{group_id}/").content.decode()

    assert 'data-testid="group-full"' in page and 'data-testid="join-group"' not in page
    assert f'href="/group-buys/{group_buy.pk}/"' in page


def test_an_unknown_group_group_buy_or_flash_sale_is_404(db):
    for path in ("/groups/999999/", "/group-buys/999999/", "/flash-sales/999999/"):
        assert browser().get(path).status_code == 404


# ---- a flash sale -----------------------------------------------------------------------


def test_a_buyer_buys_at_the_flash_price_until_the_units_are_gone(shop, flash_sale):
    response = browser(testing.make_user("fast")).post(
        f"/flash-sales/{flash_sale.pk}/", {**member_form(), "quantity": "2"}
    )
    assert response.status_code == 302
    assert Order.objects.get(allotment_id=flash_sale.allotment_id).total == 16000

    late = browser(testing.make_user("late"))
    page = late.get(f"/flash-sales/{flash_sale.pk}/").content.decode()
    assert 'data-testid="flash-sold-out"' in page and 'data-testid="buy-flash"' not in page
    refused = late.post(f"/flash-sales/{flash_sale.pk}/", member_form())
    assert refused.status_code == 200 and "售罄" in refused.content.decode()
    assert Order.objects.filter(allotment_id=flash_sale.allotment_id).count() == 1


# ---- the shop console ---------------------------------------------------------------------


def test_the_keeper_creates_a_group_buy_and_a_flash_sale_from_the_console(shop, sku):
    keeper = browser(shop.owner)
    assert (
        'data-testid="create-group-buy"' in keeper.get("/console/shop/campaigns/").content.decode()
    )
    ends = (clock.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = keeper.post(
        "/console/shop/campaigns/",
        {"group_buy": "1", "sku": sku.id, "group_price": "88", "group_size": "3", "hours": "24",
         "ends_at": ends},
    )  # fmt: skip
    assert response.status_code == 302
    assert GroupBuy.objects.get(shop=shop).group_price == 8800

    starts = clock.now().strftime("%Y-%m-%dT%H:%M")
    response = keeper.post(
        "/console/shop/campaigns/",
        {"flash_sale": "1", "sku": sku.id, "price": "80", "units": "5", "per_buyer_limit": "1",
         "starts_at": starts, "ends_at": ends, "payment_minutes": "15"},
    )  # fmt: skip
    assert response.status_code == 302
    assert FlashSale.objects.get(shop=shop).units == 5


def test_the_keeper_creates_a_presale_from_the_console(shop, sku):
    keeper = browser(shop.owner)
    page = keeper.get("/console/shop/campaigns/").content.decode()
    assert 'data-testid="create-presale"' in page and "新建预售" in page
    now = clock.now()
    form = {"presale": "1", "sku": sku.id, "price": "90", "deposit": "10",
            "balance_starts_at": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "balance_ends_at": (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "ships_on": (now + dt.timedelta(days=3)).strftime("%Y-%m-%d")}  # fmt: skip

    # a deposit above the price is refused on the form, in the keeper's language
    refused = keeper.post("/console/shop/campaigns/", {**form, "deposit": "91"})
    assert refused.status_code == 200 and 'role="alert"' in refused.content.decode()
    assert not Presale.objects.exists()

    created = keeper.post("/console/shop/campaigns/", form)
    assert created.status_code == 302
    presale = Presale.objects.get(shop=shop)
    assert (presale.price, presale.deposit) == (9000, 1000)
    page = keeper.get("/console/shop/campaigns/").content.decode()
    assert f'data-testid="presale-{presale.pk}"' in page


def test_a_price_below_cost_is_refused_on_the_form(shop, sku):
    ends = (clock.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page = browser(shop.owner).post(
        "/console/shop/campaigns/",
        {"group_buy": "1", "sku": sku.id, "group_price": "1", "group_size": "3", "hours": "24",
         "ends_at": ends},
    )  # fmt: skip
    assert page.status_code == 200 and 'role="alert"' in page.content.decode()
    assert not GroupBuy.objects.exists()


def test_the_console_shows_results_and_ends_a_group_buy(shop, group_buy, flash_sale):
    _start(group_buy, testing.make_user("leader"))
    browser(testing.make_user("fast")).post(f"/flash-sales/{flash_sale.pk}/", member_form())

    page = browser(shop.owner).get("/console/shop/campaigns/").content.decode()
    assert f'data-testid="group-buy-{group_buy.pk}"' in page
    assert f'data-testid="flash-sale-{flash_sale.pk}"' in page
    assert "1 / 2" in page  # flash units taken of offered

    response = browser(shop.owner).post(f"/console/shop/campaigns/group-buys/{group_buy.pk}/end/")
    assert response.status_code == 302
    group_buy.refresh_from_db()
    assert group_buy.status == GroupBuy.Status.ENDED


def _pay(user, order_id: int) -> None:
    api = testing.ApiClient(user)
    payment = api.post(f"/orders/{order_id}/payments", {"provider": "sandbox"})
    assert payment.status_code == 201, payment.json()
    assert api.post(f"/payments/{payment.json()['id']}/sandbox-confirm").status_code == 200


def _cell(page: str, testid: str) -> str:
    """The text of the console's cell with this test id."""
    start = page.index(f'data-testid="{testid}">') + len(f'data-testid="{testid}">')
    return page[start : page.index("</td>", start)]


def test_the_console_shows_units_sold_and_paid_and_ends_a_flash_sale(shop, product, flash_sale):
    payer, waiter = testing.make_user("payer"), testing.make_user("waiter")
    for user in (payer, waiter):
        ordered = browser(user).post(f"/flash-sales/{flash_sale.pk}/", member_form())
        assert ordered.status_code == 302
    _pay(payer, Order.objects.get(buyer=payer).pk)
    keeper = browser(shop.owner)

    page = keeper.get("/console/shop/campaigns/").content.decode()
    assert _cell(page, f"flash-sold-{flash_sale.pk}") == "2 / 2"  # taken, paid or not
    assert _cell(page, f"flash-paid-{flash_sale.pk}") == "已付 1 件"
    assert _cell(page, f"flash-gmv-{flash_sale.pk}") == "¥80.00"
    assert f'data-testid="end-flash-sale-{flash_sale.pk}"' in page

    ended = keeper.post(f"/console/shop/campaigns/flash-sales/{flash_sale.pk}/end/")

    assert ended.status_code == 302
    flash_sale.refresh_from_db()
    assert flash_sale.ended_at is not None
    page = keeper.get("/console/shop/campaigns/").content.decode()
    assert f'data-testid="end-flash-sale-{flash_sale.pk}"' not in page
    # the product page no longer offers it, its own page says it ended
    product_page = browser().get(f"/shop/{shop.handle}/p/{product.pk}/").content.decode()
    assert f'href="/flash-sales/{flash_sale.pk}/"' not in product_page
    sale_page = browser(testing.make_user("late")).get(f"/flash-sales/{flash_sale.pk}/")
    assert 'data-testid="buy-flash"' not in sale_page.content.decode()
    # ending it again is refused in the keeper's language
    again = keeper.post(f"/console/shop/campaigns/flash-sales/{flash_sale.pk}/end/", follow=True)
    assert "当前状态" in again.content.decode()


def test_the_console_ends_a_scheduled_flash_sale_only_for_its_keeper(shop, sku):
    now = clock.now()
    sale = services.create_flash_sale(
        user=shop.owner,
        shop=shop,
        sku_id=sku.id,
        price=8000,
        units=2,
        per_buyer_limit=1,
        starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=2),
        payment_minutes=10,
    )
    url = f"/console/shop/campaigns/flash-sales/{sale.pk}/end/"
    assert browser(testing.make_user("other")).post(url).status_code == 404
    assert browser(shop.owner).get(url).status_code == 405
    assert f'data-testid="end-flash-sale-{sale.pk}"' in (
        browser(shop.owner).get("/console/shop/campaigns/").content.decode()
    )
    assert browser(shop.owner).post(url).status_code == 302
    sale.refresh_from_db()
    assert sale.ended_at is not None


def test_the_console_counts_failed_groups(shop, group_buy):
    _start(group_buy, testing.make_user("alone"))
    run_due(clock.now() + dt.timedelta(hours=25))
    page = browser(shop.owner).get("/console/shop/campaigns/").content.decode()
    assert _cell(page, f"groups-formed-{group_buy.pk}") == "1"
    assert _cell(page, f"groups-succeeded-{group_buy.pk}") == "0"
    assert _cell(page, f"groups-failed-{group_buy.pk}") == "1"


def test_the_console_shows_each_presales_deposits_balances_and_lapses(shop, sku):
    now = clock.now()
    presale = services.create_presale(
        user=shop.owner,
        shop=shop,
        sku_id=sku.id,
        price=9000,
        deposit=1000,
        balance_starts_at=now + dt.timedelta(days=1),
        balance_ends_at=now + dt.timedelta(days=2),
        ships_on=(now + dt.timedelta(days=3)).date(),
    )
    buyers = [testing.make_user(name) for name in ("full", "lapses", "never")]
    order_ids = []
    for user in buyers:
        with transaction.atomic():
            order_ids.append(
                services.buy_presale(
                    user=user,
                    presale_id=presale.pk,
                    quantity=1,
                    address=services.Address("韩梅梅", "13600136000", "杭州市", "西湖路 1 号"),
                ).pk
            )
    _pay(buyers[0], order_ids[0])  # deposit
    _pay(buyers[1], order_ids[1])  # deposit
    with clock.travel(dt.timedelta(days=1, minutes=1)):
        _pay(buyers[0], order_ids[0])  # balance
    run_due(now + dt.timedelta(days=2, minutes=1))  # the second buyer's balance lapses

    page = browser(shop.owner).get("/console/shop/campaigns/").content.decode()

    assert f'data-testid="presale-{presale.pk}"' in page
    assert _cell(page, f"presale-deposits-{presale.pk}") == "2"
    assert _cell(page, f"presale-balances-{presale.pk}") == "1"
    assert _cell(page, f"presale-lapsed-{presale.pk}") == "1"
    assert _cell(page, f"presale-gmv-{presale.pk}") == "¥90.00"


def test_only_the_keeper_sees_and_ends_the_shops_campaigns(shop, group_buy):
    other = testing.make_user("other")
    assert browser(other).get("/console/shop/campaigns/").status_code == 302  # no shop: overview
    assert browser().get("/console/shop/campaigns/").status_code == 302  # sign in
    response = browser(other).post(f"/console/shop/campaigns/group-buys/{group_buy.pk}/end/")
    assert response.status_code == 404
    assert (
        browser(other).get(f"/console/shop/campaigns/group-buys/{group_buy.pk}/end/").status_code
        == 405
    )
    group_buy.refresh_from_db()
    assert group_buy.status == GroupBuy.Status.ACTIVE


# ---- the supplier console -------------------------------------------------------------------


def test_the_supplier_sees_a_paid_order_waiting_for_its_group_without_a_ship_form(
    shop, group_buy, supplier_pair
):
    _, staff = supplier_pair
    leader = testing.make_user("leader")
    group_id = _start(group_buy, leader)
    order = Order.objects.get(allotment_id=group_id)
    client = testing.ApiClient(leader)
    payment = client.post(f"/orders/{order.pk}/payments", {"provider": "sandbox"})
    assert payment.status_code == 201, payment.json()
    client.post(f"/payments/{payment.json()['id']}/sandbox-confirm")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.awaiting_group

    page = browser(staff).get("/console/supplier/orders/").content.decode()

    assert f'data-testid="awaiting-group-{order.pk}"' in page
    assert f'data-testid="ship-{order.pk}"' not in page
