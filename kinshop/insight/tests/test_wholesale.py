"""Insight and wholesale agree: a shop buying stock is not a consumer sale, and
retail reach in insight is wholesale's retail reach, rolled up by the job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kinshop import testing
from kinshop.core import clock
from kinshop.insight.tests.conftest import pay, place
from kinshop.ledger import queries as ledger_queries
from kinshop.ops.jobs import run_due
from kinshop.orders import services as orders
from kinshop.payments import services as payments
from kinshop.wholesale import queries as wholesale_queries
from kinshop.wholesale import services as wholesale
from kinshop.wholesale.tests.helpers import buy, stock_up
from kinshop.wholesale.tests.helpers import pay as pay_wholesale

pytestmark = pytest.mark.django_db


def _week() -> dict[str, str]:
    today = timezone.localdate(clock.now())
    return {"from": (today - dt.timedelta(days=6)).isoformat(), "to": today.isoformat()}


@pytest.fixture
def mixed(api, shop, product, supplier_pair, operator):
    """A consumer buys 3 units drop-shipped (shipped); the keeper buys 20
    wholesale (shipped), sells 7 of them offline, returns 4 (refund approved)
    and orders 10 more, paid but not shipped. Then the rollup runs."""
    supplier, staff = supplier_pair
    sku = product.skus.get()
    wholesale.set_tiers(user=staff, sku_id=sku.id, tiers=[wholesale.Tier(10, 5500)])
    consumer = testing.make_user("consumer")
    drop = place(api, consumer, shop, sku, 3)
    pay(api, consumer, drop["id"])
    orders.ship(user=staff, order_id=drop["id"], carrier="SF", tracking_no="SF000001")
    stocked = stock_up(shop, sku, 20, staff)
    wholesale.record_offline_sale(
        user=shop.owner, shop=shop, sku_id=sku.id, quantity=7, unit_price=9000
    )
    refund = wholesale.return_units(
        user=shop.owner, shop=shop, order_id=stocked.id, sku_id=sku.id, quantity=4, reason="unsold"
    )
    payments.approve_refund(user=staff, refund_id=refund.id)
    testing.commit()
    pay_wholesale(buy(shop, sku, 10))
    run_due(clock.now())
    return {
        "consumer": consumer,
        "drop": drop,
        "supplier": supplier,
        "staff": staff,
        "operator": operator,
    }


def test_retail_reach_in_insight_is_wholesales(api, shop, mixed):
    # left suppliers: 3 drop-shipped + 20 wholesale − 4 returned (the 10 are not shipped);
    # reached consumers: 3 drop-shipped + 7 sold offline
    by_hand = (3 + 7) / (3 + 20 - 4)
    assert wholesale_queries.retail_reach(shop_id=shop.id)["rate"] == by_hand
    assert wholesale_queries.retail_reach()["rate"] == by_hand
    assert ledger_queries.compliance_report()["retail_reach_rate"] == by_hand

    keeper = api(shop.owner).get(f"/shops/{shop.handle}/insight", **_week()).json()
    assert keeper["retail_reach_rate"] == by_hand
    # reach is up to the end of each period: before this week nothing had left a supplier
    assert keeper["previous"]["retail_reach_rate"] == 1.0
    operator = api(mixed["operator"])
    for params in ({}, _week()):  # the job's snapshot, and counted from the rollups
        platform = operator.get("/insight/platform", **params).json()
        assert platform["retail_reach_rate"] == by_hand
    supplier = api(mixed["staff"]).get(f"/suppliers/{mixed['supplier'].id}/insight").json()
    assert supplier["retail_reach_rate"] == by_hand
    assert (
        wholesale_queries.retail_reach(supplier_id=mixed["supplier"].id)["rate"]
        == supplier["retail_reach_rate"]
    )


def test_wholesale_orders_are_not_consumer_sales(api, shop, mixed):
    drop_total = 3 * 9900
    body = api(shop.owner).get(f"/shops/{shop.handle}/insight", **_week()).json()
    assert (body["orders"], body["buyers"], body["visitors"]) == (1, 1, 1)
    assert body["gmv"] == drop_total
    assert body["funnel"]["orders"] == body["funnel"]["paid"] == 1
    assert body["self_purchase_share"] == 0.0
    cohorts = api(shop.owner).get(f"/shops/{shop.handle}/insight/cohorts").json()["cohorts"]
    assert [row["buyers"] for row in cohorts] == [1]
    platform = api(mixed["operator"]).get("/insight/platform", **_week()).json()
    assert (platform["orders"], platform["buyers"], platform["gmv"]) == (1, 1, drop_total)
    supplier = api(mixed["staff"]).get(f"/suppliers/{mixed['supplier'].id}/insight").json()
    assert (supplier["orders"], supplier["units"], supplier["gmv"]) == (1, 3, drop_total)


def test_a_later_offline_sale_counts_from_the_next_run(api, shop, product, mixed):
    """Later facts land on later days; insight reads only its rollups, so the
    next run picks them up."""
    sku = product.skus.get()
    url = f"/shops/{shop.handle}/insight"
    with clock.travel(dt.timedelta(days=2)):
        wholesale.record_offline_sale(
            user=shop.owner, shop=shop, sku_id=sku.id, quantity=5, unit_price=9000
        )
        before_run = api(shop.owner).get(url, **_week()).json()["retail_reach_rate"]
        assert before_run == (3 + 7) / (3 + 20 - 4)
        run_due(clock.now())
        expected = wholesale_queries.retail_reach(shop_id=shop.id)["rate"]
        assert expected == (3 + 7 + 5) / (3 + 20 - 4)
        assert api(shop.owner).get(url, **_week()).json()["retail_reach_rate"] == expected
