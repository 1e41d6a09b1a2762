"""The holding cap and "never sell more than held" under real concurrency, on
PostgreSQL: many requests at once, each on its own connection, cannot together
slip past a limit that each would pass alone."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.orders.models import Order
from kinshop.wholesale import services as wholesale
from kinshop.wholesale.models import OfflineSale
from kinshop.wholesale.tests.helpers import pay, ship
from tests.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def market(settings):
    settings.KINSHOP_HOLDING_FLOOR = 50
    with transaction.atomic():
        _, staff = testing.make_supplier()
        product = testing.make_product(
            staff=staff,
            skus=[
                {
                    "code": "BULK-1",
                    "name": "1 kg",
                    "supply_price": 6000,
                    "retail_min": 8000,
                    "retail_max": 12000,
                    "suggested_retail_price": 9900,
                    "stock": 1000,
                }
            ],
        )
        sku = product.skus.get()
        wholesale.set_tiers(user=staff, sku_id=sku.id, tiers=[wholesale.Tier(1, 5000)])
        shop = testing.make_shop()
    return shop, sku, staff


def test_simultaneous_wholesale_orders_never_pass_the_cap_together(market):
    shop, sku, _ = market
    clients = [testing.ApiClient(shop.owner) for _ in range(8)]

    # when eight orders of 10 units arrive at once, under a cap of 50 (first holding)
    results = run_together(
        8,
        lambda index: clients[index].post(
            f"/shops/{shop.handle}/wholesale-orders",
            {"lines": [{"sku_id": sku.id, "quantity": 10}]},
        ),
    )

    # then exactly five fit, the rest are refused with the cap
    outcomes = Counter((response.status_code, response.json().get("code")) for response in results)
    assert outcomes == {(201, None): 5, (409, "holding_cap"): 3}, outcomes
    assert Order.objects.filter(shop=shop, is_wholesale=True).count() == 5
    sku.refresh_from_db()
    assert sku.stock == 950


def test_simultaneous_offline_sales_never_sell_more_than_held(market):
    shop, sku, staff = market
    with transaction.atomic():
        order = wholesale.place_order(
            user=shop.owner, shop=shop, lines=[wholesale.LineRequest(sku.id, 10)]
        )
    with transaction.atomic():
        pay(order)
    with transaction.atomic():
        ship(order, staff)
    clients = [testing.ApiClient(shop.owner) for _ in range(6)]

    results = run_together(
        6,
        lambda index: clients[index].post(
            f"/shops/{shop.handle}/offline-sales",
            {"sku_id": sku.id, "quantity": 3, "unit_price": 9900},
        ),
    )

    outcomes = Counter((response.status_code, response.json().get("code")) for response in results)
    assert outcomes == {(201, None): 3, (409, "exceeds_holding"): 3}, outcomes
    assert sum(OfflineSale.objects.filter(shop=shop).values_list("quantity", flat=True)) == 9
