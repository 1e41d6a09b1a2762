"""The shop console (/console/shop/) through the Django test client."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kinshop import testing
from kinshop.shops.models import Selection, SelectionPrice, Shop
from kinshop.web.tests.helpers import place_paid_order, settled_commission

pytestmark = pytest.mark.django_db

PAGES = [
    "/console/shop/",
    "/console/shop/market/",
    "/console/shop/products/",
    "/console/shop/orders/",
    "/console/shop/settings/",
    "/console/shop/wholesale/",
]


@pytest.mark.parametrize("url", PAGES)
def test_console_pages_render_for_the_shopkeeper(client, shop, url):
    client.force_login(shop.owner)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_console_needs_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/sign-in/")


@pytest.mark.parametrize("url", PAGES[1:])
def test_without_a_shop_every_page_leads_to_opening_one(client, shop, url):
    client.force_login(testing.make_user())
    response = client.get(url)
    assert (response.status_code, response.url) == (302, "/console/shop/")


def test_another_shopkeeper_sees_only_their_own_orders(client, shop, product):
    order = place_paid_order(shop=shop, sku=product.skus.first())
    other = testing.make_shop(products=[product])
    client.force_login(other.owner)
    response = client.get("/console/shop/orders/")
    assert response.status_code == 200
    assert [row["order"].id for row in response.context["rows"]] == []
    assert f'data-testid="shop-order-{order.id}"' not in response.content.decode()


def test_a_person_without_a_shop_opens_one(client):
    user = testing.make_user()
    client.force_login(user)
    page = client.get("/console/shop/")
    assert page.templates[0].name == "web/shop_console/open_shop.html"
    response = client.post(
        "/console/shop/", {"name": "小林的坚果铺", "handle": "lin-nuts", "bio": "临安山核桃"}
    )
    assert (response.status_code, response.url) == (302, "/console/shop/market/")
    shop = Shop.objects.get(owner=user)
    assert (shop.handle, shop.name) == ("lin-nuts", "小林的坚果铺")


def test_a_taken_handle_is_refused(client, shop):
    client.force_login(testing.make_user())
    response = client.post("/console/shop/", {"name": "Nuts", "handle": shop.handle})
    assert response.status_code == 422
    assert response.context["form"].non_field_errors()


def test_market_shows_band_and_margin_at_the_suggested_price(client, supplier_pair):
    _, staff = supplier_pair
    product = testing.make_product(staff=staff, title="Tea", commission_rate_bp=1000)
    shop = testing.make_shop()
    client.force_login(shop.owner)
    response = client.get("/console/shop/market/")
    card = next(card for card in response.context["cards"] if card["product"].id == product.id)
    row = card["skus"][0]
    assert row["price"] == 9900
    # 9900 − 6000 supply − 990 commission − 0 fee
    assert row["split"].parts() == {"supplier": 6000, "fee": 0, "commission": 990, "margin": 2910}
    html = response.content.decode()
    assert f'data-testid="pick-{product.id}"' in html
    assert "¥80.00" in html and "¥120.00" in html


def test_market_search(client, supplier_pair):
    _, staff = supplier_pair
    testing.make_product(staff=staff, title="Green tea")
    testing.make_product(staff=staff, title="Walnuts")
    shop = testing.make_shop()
    client.force_login(shop.owner)
    response = client.get("/console/shop/market/?q=tea")
    assert [card["product"].title for card in response.context["cards"]] == ["Green tea"]


def test_pick_a_product_at_a_price_in_band(client, product):
    shop = testing.make_shop()
    sku = product.skus.first()
    client.force_login(shop.owner)
    response = client.post(
        f"/console/shop/market/{product.id}/pick/", {f"price_{sku.id}": "105.50"}
    )
    assert response.status_code == 302
    assert SelectionPrice.objects.get(shop=shop, sku=sku).retail_price == 10550


def test_pick_out_of_band_shows_the_error_in_the_form(client, product):
    shop = testing.make_shop()
    sku = product.skus.first()
    client.force_login(shop.owner)
    response = client.post(f"/console/shop/market/{product.id}/pick/", {f"price_{sku.id}": "200"})
    assert response.status_code == 422
    card = next(card for card in response.context["cards"] if card["product"].id == product.id)
    assert card["errors"] == ["500 g：价格须在 ¥80.00 到 ¥120.00 之间。"]
    assert card["skus"][0]["value"] == "200"
    assert not Selection.objects.filter(shop=shop).exists()


def test_remove_a_product_from_the_shop(client, shop, product):
    client.force_login(shop.owner)
    response = client.post(f"/console/shop/products/{product.id}/remove/")
    assert response.status_code == 302
    assert not Selection.objects.filter(shop=shop).exists()


def test_another_shopkeeper_cannot_remove_from_my_shop(client, shop, product):
    other = testing.make_shop()
    client.force_login(other.owner)
    client.post(f"/console/shop/products/{product.id}/remove/")
    assert Selection.objects.filter(shop=shop, product=product).exists()


def test_update_shop_settings(client, shop):
    client.force_login(shop.owner)
    response = client.post("/console/shop/settings/", {"name": "新名字", "bio": "你好"})
    assert response.status_code == 302
    shop.refresh_from_db()
    assert (shop.name, shop.bio) == ("新名字", "你好")


def test_orders_show_the_margin_per_order(client, shop, product):
    settled_commission(shop, product, testing.make_user())
    place_paid_order(shop=shop, sku=product.skus.first())
    client.force_login(shop.owner)
    response = client.get("/console/shop/orders/")
    # without a sharer the shop keeps the commission too: 9900 − 6000
    # with one, two units: 19800 − 12000 − 1980
    assert [row["margin"] for row in response.context["rows"]] == [3900, 5820]


def test_overview_counts_todays_orders_and_margin(client, shop, product):
    place_paid_order(shop=shop, sku=product.skus.first())
    place_paid_order(shop=shop, sku=product.skus.first(), quantity=2)
    client.force_login(shop.owner)
    response = client.get("/console/shop/")
    assert response.context["orders"] == {"today": 2, "week": 2}
    assert response.context["margin"] == {"today": 3 * 3900, "week": 3 * 3900}


def _orders_page_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/console/shop/orders/").status_code == 200
    return len(captured)


def test_orders_page_queries_do_not_grow_with_orders(client, shop, product):
    sku = product.skus.first()
    for _ in range(5):
        place_paid_order(shop=shop, sku=sku)
    few = _orders_page_queries(client, shop.owner)
    for _ in range(45):
        place_paid_order(shop=shop, sku=sku)
    assert _orders_page_queries(client, shop.owner) == few


@pytest.mark.django_db
def test_order_margin_is_net_of_refunds_and_zero_before_payment(settings):
    from kinshop import testing
    from kinshop.orders import services as orders
    from kinshop.payments import services as payments
    from kinshop.web.shop_console.views import order_margin

    # given ¥99.00 paid, supply ¥60.00, no sharer, 2% fee → margin 9900 − 6000 − 198 = 3702
    settings.KINSHOP_PLATFORM_FEE_BP = 200
    _, staff = testing.make_supplier()
    product = testing.make_product(staff=staff)
    shop = testing.make_shop(products=[product], price=9900)
    buyer, operator = testing.make_user(), testing.make_operator()
    address = orders.Address("王小明", "13800138000", "杭州", "文三路 1 号")
    order = orders.place_order(
        buyer=buyer,
        shop=shop,
        lines=[orders.LineRequest(product.skus.get().id, 1)],
        address=address,
    )
    assert order_margin(order) == 0
    payment = payments.start_payment(user=buyer, order_id=order.id, provider="sandbox")
    payments.sandbox_confirm(user=buyer, payment_id=payment.id)
    order.refresh_from_db()
    assert order_margin(order) == 3702
    # when a third is refunded, a third of the margin goes with it
    refund = orders.request_refund(user=buyer, order_id=order.id, amount=3300, reason="broken")
    payments.approve_refund(user=operator, refund_id=refund.id)
    testing.commit()
    order.refresh_from_db()
    assert order_margin(order) == 3702 - (3300 - 2000 - 66)
