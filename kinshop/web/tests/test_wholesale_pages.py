"""The wholesale pages: the shop console's (tiers, buying stock, holdings,
offline sales) and the supplier console's (tiers, shipping wholesale orders)."""

from __future__ import annotations

import pytest
from django.utils import translation

from kinshop import testing
from kinshop.wholesale import queries
from kinshop.wholesale import services as wholesale
from kinshop.wholesale.models import OfflineSale, WholesaleTier
from kinshop.wholesale.tests.helpers import pay, ship

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers(sku, supplier_pair):
    _, staff = supplier_pair
    wholesale.set_tiers(
        user=staff, sku_id=sku.id, tiers=[wholesale.Tier(10, 5500), wholesale.Tier(50, 5000)]
    )
    return sku


def test_the_shop_buys_stock_at_the_tier_and_goes_to_pay(client, shop, tiers):
    client.force_login(shop.owner)
    page = client.get("/console/shop/wholesale/")
    assert page.status_code == 200
    assert [offer["sku"].id for offer in page.context["offers"]] == [tiers.id]
    assert page.context["offers"][0]["room"] == 50

    response = client.post("/console/shop/wholesale/order/", {"sku_id": tiers.id, "quantity": 12})

    order = shop.orders.get()
    assert order.is_wholesale and order.total == 12 * 5500
    assert response.status_code == 302
    assert response.url == f"/orders/{order.id}/pay/"


def test_a_refusal_over_the_cap_says_the_numbers(client, shop, tiers, settings):
    settings.KINSHOP_HOLDING_FLOOR = 20
    client.force_login(shop.owner)
    with translation.override("en"):
        response = client.post(
            "/console/shop/wholesale/order/",
            {"sku_id": tiers.id, "quantity": 21},
            follow=True,
            headers={"accept-language": "en"},
        )
    text = response.content.decode()
    assert "over your holding cap" in text
    assert "the cap is 20" in text
    assert not shop.orders.exists()


def test_holdings_and_an_offline_sale(client, shop, tiers, supplier_pair):
    _, staff = supplier_pair
    order = ship(
        pay(
            wholesale.place_order(
                user=shop.owner, shop=shop, lines=[wholesale.LineRequest(tiers.id, 10)]
            )
        ),
        staff,
    )
    assert order.status == "shipped"
    client.force_login(shop.owner)

    page = client.get("/console/shop/wholesale/")
    (row,) = page.context["holdings"]
    assert (row.counts.bought, row.counts.held) == (10, 10)

    client.post(
        "/console/shop/wholesale/offline-sale/",
        {"sku_id": tiers.id, "quantity": 4, "unit_price": "98.00"},
    )
    sale = OfflineSale.objects.get()
    assert (sale.quantity, sale.unit_price) == (4, 9800)
    refused = client.post(
        "/console/shop/wholesale/offline-sale/",
        {"sku_id": tiers.id, "quantity": 7, "unit_price": "98.00"},
        follow=True,
    )
    assert refused.status_code == 200
    assert OfflineSale.objects.count() == 1
    assert queries.counts(shop.id)[tiers.id].held == 6
    assert client.get("/console/shop/wholesale/").context["reach"]["rate"] == 0.4


def test_the_shop_orders_page_shows_a_wholesale_order_with_no_margin(client, shop, tiers, settings):
    settings.KINSHOP_PLATFORM_FEE_BP = 300
    pay(
        wholesale.place_order(
            user=shop.owner, shop=shop, lines=[wholesale.LineRequest(tiers.id, 10)]
        )
    )
    client.force_login(shop.owner)
    response = client.get("/console/shop/orders/")
    assert response.status_code == 200
    assert [row["margin"] for row in response.context["rows"]] == [0]


def test_the_supplier_sets_tiers_and_ships_a_wholesale_order(client, shop, tiers, supplier_pair):
    _, staff = supplier_pair
    client.force_login(staff)
    assert client.get("/console/supplier/wholesale/").status_code == 200

    client.post(
        f"/console/supplier/skus/{tiers.id}/wholesale-tiers/",
        {
            "tier0_quantity": "5",
            "tier0_price": "58.00",
            "tier1_quantity": "20",
            "tier1_price": "52",
        },
    )
    assert list(
        WholesaleTier.objects.filter(sku=tiers).values_list("min_quantity", "unit_price")
    ) == [(5, 5800), (20, 5200)]
    client.post(
        f"/console/supplier/skus/{tiers.id}/wholesale-tiers/",
        {"tier0_quantity": "5", "tier0_price": "61.00"},  # above the supply price
    )
    assert WholesaleTier.objects.filter(sku=tiers).count() == 2

    order = pay(
        wholesale.place_order(
            user=shop.owner, shop=shop, lines=[wholesale.LineRequest(tiers.id, 5)]
        )
    )
    page = client.get("/console/supplier/orders/")
    assert f'data-testid="wholesale-{order.id}"' in page.content.decode()
    client.post(
        f"/console/supplier/orders/{order.id}/ship/", {"carrier": "SF", "tracking_no": "SF42"}
    )
    order.refresh_from_db()
    assert order.status == "shipped"
    assert queries.counts(shop.id)[tiers.id].held == 5
    other_staff = testing.make_supplier()[1]
    client.force_login(other_staff)
    assert (
        client.post(
            f"/console/supplier/skus/{tiers.id}/wholesale-tiers/", {"tier0_quantity": ""}
        ).status_code
        == 404
    )
