"""Wholesale through the services: tiers, orders at the tier price with no
commission, the ledger's split, holdings, offline sales, the cap and returns."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from kinshop import testing
from kinshop.catalog import services as catalog
from kinshop.core import clock
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.ledger import queries as ledger_queries
from kinshop.ledger import services as ledger
from kinshop.orders import queries as order_queries
from kinshop.orders import services as orders
from kinshop.orders.models import OrderLine
from kinshop.payments import services as payments
from kinshop.sharing import services as sharing
from kinshop.wholesale import queries, services
from kinshop.wholesale.models import OfflineSale, WholesaleTier
from kinshop.wholesale.tests.helpers import buy, pay, ship, stock_up

pytestmark = pytest.mark.django_db

Tier = services.Tier


# ---- tiers ---------------------------------------------------------------------------


def test_supplier_staff_replace_the_tiers_of_their_sku(sku, supplier_pair):
    _, staff = supplier_pair
    services.set_tiers(user=staff, sku_id=sku.id, tiers=[Tier(10, 5500)])
    services.set_tiers(user=staff, sku_id=sku.id, tiers=[Tier(50, 5000), Tier(5, 5900)])

    assert list(
        WholesaleTier.objects.filter(sku=sku).values_list("min_quantity", "unit_price")
    ) == [(5, 5900), (50, 5000)]
    services.set_tiers(user=staff, sku_id=sku.id, tiers=[])
    assert not WholesaleTier.objects.filter(sku=sku).exists()


def test_tiers_are_refused_above_supply_or_not_falling(sku, supplier_pair):
    _, staff = supplier_pair
    with pytest.raises(InvalidInput) as above:
        services.set_tiers(user=staff, sku_id=sku.id, tiers=[Tier(10, 6001)])
    assert above.value.code == "tier_above_supply_price"
    with pytest.raises(InvalidInput) as rising:
        services.set_tiers(user=staff, sku_id=sku.id, tiers=[Tier(10, 5000), Tier(20, 5000)])
    assert rising.value.code == "tier_prices_not_falling"


def test_only_the_suppliers_staff_set_tiers(sku, shop):
    _, other_staff = testing.make_supplier()
    for user in (other_staff, shop.owner):
        with pytest.raises(Forbidden):
            services.set_tiers(user=user, sku_id=sku.id, tiers=[Tier(10, 5000)])
    with pytest.raises(NotFound):
        services.set_tiers(user=shop.owner, sku_id=10**9, tiers=[])


# ---- orders ---------------------------------------------------------------------------


def test_a_wholesale_order_is_at_the_tier_price_with_no_sharer_and_no_commission(
    tiers, shop, supplier_pair, settings
):
    settings.KINSHOP_HOLDING_FLOOR = 60
    # given a sharer whose link the keeper clicked: a consumer order would pay them
    sharer = testing.make_user("sharer")
    link = sharing.create_share_link(sharer=sharer, shop=shop)
    sharing.record_click(code=link.code, viewer=shop.owner, channel="link")

    order = buy(shop, tiers, 60)

    assert order.is_wholesale
    assert order.buyer == shop.owner
    assert order.total == 60 * 5000
    assert order.status == "pending_payment"
    (line,) = order.lines.all()
    assert (line.unit_price, line.quantity, line.line_total) == (5000, 60, 300_000)
    assert line.is_wholesale
    assert line.commission_beneficiary_id is None
    assert line.commission_rate_bp == 0
    assert line.attribution_click_id is None
    assert line.unit_supply_price == 5000
    tiers.refresh_from_db()
    assert tiers.stock == 40


def test_the_tier_follows_the_quantity(tiers, shop, settings):
    settings.KINSHOP_HOLDING_FLOOR = 100
    assert buy(shop, tiers, 10).total == 10 * 5500
    assert buy(shop, tiers, 49).total == 49 * 5500
    with pytest.raises(InvalidInput) as below:
        buy(shop, tiers, 9)
    assert below.value.code == "below_wholesale_minimum"
    assert below.value.details["min_quantity"] == 10


def test_a_sku_without_tiers_is_not_sold_wholesale(sku, shop):
    with pytest.raises(Conflict) as refused:
        buy(shop, sku, 10)
    assert refused.value.code == "no_wholesale_tiers"


def test_only_the_keeper_buys_for_their_shop(tiers, shop):
    stranger = testing.make_user("stranger")
    with pytest.raises(Forbidden):
        services.place_order(user=stranger, shop=shop, lines=[services.LineRequest(tiers.id, 10)])


def test_the_database_refuses_a_wholesale_line_with_a_beneficiary(tiers, shop):
    order = buy(shop, tiers, 10)
    sharer = testing.make_user("sharer")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(order=order).update(commission_beneficiary=sharer)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(order=order).update(commission_rate_bp=500)


def test_the_ledger_pays_the_supplier_less_the_fee_and_nobody_else(
    tiers, shop, supplier_pair, settings
):
    settings.KINSHOP_PLATFORM_FEE_BP = 250
    supplier, staff = supplier_pair
    order = pay(buy(shop, tiers, 13))  # 13 × 5500 = 71 500; fee 2.5 % = 1787 (rounded down)

    supplier_owner = ledger_queries.supplier_owner(supplier.id)
    assert ledger_queries.balances(supplier_owner, "CNY") == {"pending": 71_500 - 1787}
    assert ledger_queries.balances(ledger_queries.shop_owner(shop.id), "CNY") == {}
    assert ledger_queries.balances(ledger_queries.PLATFORM, "CNY")["platform_fee"] == 1787

    # a partial refund gives back the supplier's and the platform's shares, not the shop's
    ship(order, staff)
    refund = orders.request_refund(user=shop.owner, order_id=order.id, amount=5501, reason="dent")
    payments.approve_refund(user=staff, refund_id=refund.id)
    testing.commit()
    assert ledger_queries.balances(ledger_queries.shop_owner(shop.id), "CNY") == {}
    pending = ledger_queries.balances(supplier_owner, "CNY")["pending"]
    fee = ledger_queries.balances(ledger_queries.PLATFORM, "CNY")["platform_fee"]
    assert pending + fee == 71_500 - 5501


def test_a_wholesale_order_is_never_above_the_cap(tiers, shop, supplier_pair, settings):
    settings.KINSHOP_HOLDING_FLOOR = 50
    _, staff = supplier_pair
    # given 30 held and 15 on order: 45 unsold
    stock_up(shop, tiers, 30, staff)
    buy(shop, tiers, 15)

    with pytest.raises(Conflict) as refused:
        buy(shop, tiers, 10)

    assert refused.value.code == "holding_cap"
    assert refused.value.details == {
        "sku_id": tiers.id,
        "unsold": 45,
        "ordering": 10,
        "cap": 50,
        "floor": 50,
        "sold_offline_30_days": 0,
        "room": 5,
    }
    assert "55" in refused.value.message and "50" in refused.value.message
    # what fits is allowed... at the 10-unit minimum, nothing more fits
    settings.KINSHOP_HOLDING_FLOOR = 55
    buy(shop, tiers, 10)


def test_offline_sales_raise_the_cap_to_twice_the_last_30_days(
    tiers, shop, supplier_pair, settings
):
    settings.KINSHOP_HOLDING_FLOOR = 50
    _, staff = supplier_pair
    catalog.adjust_stock(user=staff, sku_id=tiers.id, delta=100)
    stock_up(shop, tiers, 50, staff)
    now = clock.now()
    # 40 sold long ago do not count; 35 sold within 30 days do
    services.record_offline_sale(
        user=shop.owner,
        shop=shop,
        sku_id=tiers.id,
        quantity=5,
        unit_price=8800,
        at=now - dt.timedelta(days=31),
    )
    services.record_offline_sale(
        user=shop.owner,
        shop=shop,
        sku_id=tiers.id,
        quantity=35,
        unit_price=8800,
        at=now - dt.timedelta(days=29),
    )
    # unsold 10; cap = max(50, 2 × 35) = 70: 60 more fit, 61 do not
    with pytest.raises(Conflict) as refused:
        buy(shop, tiers, 61)
    assert refused.value.details["cap"] == 70
    assert refused.value.details["unsold"] == 10
    order = buy(shop, tiers, 60)
    assert order.total == 60 * 5000


def test_a_cancelled_wholesale_order_frees_its_room_under_the_cap(tiers, shop, settings):
    settings.KINSHOP_HOLDING_FLOOR = 50
    order = buy(shop, tiers, 50)
    with pytest.raises(Conflict):
        buy(shop, tiers, 10)
    orders.cancel_order(user=shop.owner, order_id=order.id)
    assert buy(shop, tiers, 50).total == 250_000


# ---- holdings, offline sales ------------------------------------------------------------


def test_units_become_holdings_when_shipped_and_leave_when_sold_offline(tiers, shop, supplier_pair):
    _, staff = supplier_pair
    order = pay(buy(shop, tiers, 20))
    assert queries.counts(shop.id)[tiers.id] == services.rules.Counts(on_order=20)
    with pytest.raises(Conflict) as nothing_held:
        services.record_offline_sale(
            user=shop.owner, shop=shop, sku_id=tiers.id, quantity=1, unit_price=9000
        )
    assert nothing_held.value.code == "exceeds_holding"

    ship(order, staff)
    services.record_offline_sale(
        user=shop.owner, shop=shop, sku_id=tiers.id, quantity=12, unit_price=9000
    )

    counts = queries.counts(shop.id)[tiers.id]
    assert (counts.bought, counts.sold_offline, counts.held, counts.on_order) == (20, 12, 8, 0)
    with pytest.raises(Conflict) as too_many:
        services.record_offline_sale(
            user=shop.owner, shop=shop, sku_id=tiers.id, quantity=9, unit_price=9000
        )
    assert too_many.value.code == "exceeds_holding"
    assert too_many.value.details["held"] == 8
    services.record_offline_sale(
        user=shop.owner, shop=shop, sku_id=tiers.id, quantity=8, unit_price=9000
    )
    assert queries.counts(shop.id)[tiers.id].held == 0
    assert OfflineSale.objects.filter(shop=shop).count() == 2


def test_an_offline_sale_of_a_sku_never_bought_is_refused(sku, shop):
    with pytest.raises(Conflict) as refused:
        services.record_offline_sale(
            user=shop.owner, shop=shop, sku_id=sku.id, quantity=1, unit_price=100
        )
    assert refused.value.code == "exceeds_holding"
    assert refused.value.details["held"] == 0


def test_holding_rows_list_the_units_held_longest_first(tiers, shop, supplier_pair, product):
    supplier, staff = supplier_pair
    second = testing.make_product(staff=staff, title="Pine nuts")
    second_sku = second.skus.get()
    services.set_tiers(user=staff, sku_id=second_sku.id, tiers=[Tier(1, 5900)])
    stock_up(shop, second_sku, 5, staff)  # the older holding
    stock_up(shop, tiers, 10, staff)
    buy(shop, tiers, 10)

    rows = queries.holding_rows(shop_id=shop.id, floor=50)

    assert [(row.sku.id, row.counts.held, row.counts.on_order) for row in rows] == [
        (second_sku.id, 5, 0),
        (tiers.id, 10, 10),
    ]
    assert rows[0].held_since <= rows[1].held_since
    assert [row.sku.id for row in queries.holding_rows(supplier_id=supplier.id, floor=50)] == [
        second_sku.id,
        tiers.id,
    ]


# ---- returns -------------------------------------------------------------------------------


def test_unsold_units_go_back_as_a_refund_of_the_wholesale_line(tiers, shop, supplier_pair):
    _, staff = supplier_pair
    order = stock_up(shop, tiers, 20, staff)
    services.record_offline_sale(
        user=shop.owner, shop=shop, sku_id=tiers.id, quantity=15, unit_price=9000
    )
    with pytest.raises(Conflict) as too_many:
        services.return_units(
            user=shop.owner, shop=shop, order_id=order.id, sku_id=tiers.id, quantity=6, reason=""
        )
    assert too_many.value.code == "exceeds_holding"

    refund = services.return_units(
        user=shop.owner, shop=shop, order_id=order.id, sku_id=tiers.id, quantity=5, reason="unsold"
    )

    assert refund.amount == 5 * 5500
    assert refund.supplier_id == tiers.supplier_id
    assert queries.counts(shop.id)[tiers.id].held == 0  # on their way back
    payments.approve_refund(user=staff, refund_id=refund.id)
    testing.commit()
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert queries.retail_reach(shop_id=shop.id) == {
        "units_left_suppliers": 15,
        "units_reached_consumers": 15,
        "units_held": 0,
        "rate": 1.0,
    }


def test_a_rejected_return_gives_the_units_back(tiers, shop, supplier_pair):
    _, staff = supplier_pair
    order = stock_up(shop, tiers, 10, staff)
    refund = services.return_units(
        user=shop.owner, shop=shop, order_id=order.id, sku_id=tiers.id, quantity=4, reason="unsold"
    )
    assert queries.counts(shop.id)[tiers.id].held == 6
    orders.reject_refund(user=staff, refund_id=refund.id, note="opened boxes")
    assert queries.counts(shop.id)[tiers.id].held == 10


# ---- retail reach ---------------------------------------------------------------------------


def test_retail_reach_counts_shipped_units_and_offline_sales(tiers, shop, supplier_pair):
    supplier, staff = supplier_pair
    consumer = testing.make_user("consumer")
    address = orders.Address(name="王芳", phone="13800138000", region="杭州", detail="1 号")
    drop = orders.place_order(
        buyer=consumer, shop=shop, lines=[orders.LineRequest(tiers.id, 3)], address=address
    )
    pay(drop)
    unshipped = orders.place_order(
        buyer=consumer, shop=shop, lines=[orders.LineRequest(tiers.id, 2)], address=address
    )
    pay(unshipped)
    ship(drop, staff)
    stock_up(shop, tiers, 40, staff)
    buy(shop, tiers, 10)  # not shipped: has not left the supplier
    services.record_offline_sale(
        user=shop.owner, shop=shop, sku_id=tiers.id, quantity=17, unit_price=9000
    )

    expected = {
        "units_left_suppliers": 43,
        "units_reached_consumers": 20,
        "units_held": 23,
        "rate": 20 / 43,
    }
    assert queries.retail_reach() == expected
    assert queries.retail_reach(shop_id=shop.id) == expected
    assert queries.retail_reach(supplier_id=supplier.id) == expected
    other_shop = testing.make_shop()
    assert queries.retail_reach(shop_id=other_shop.id)["rate"] == 1.0
    report = ledger_queries.compliance_report()
    assert report["retail_reach_rate"] == 20 / 43
    assert report["wholesale_units_held"] == 23


def test_retail_reach_answers_in_three_queries(tiers, shop):
    with testing.assert_query_count(3):
        queries.retail_reach(shop_id=shop.id)


def test_settlement_pays_a_wholesale_supplier(tiers, shop, supplier_pair):
    supplier, staff = supplier_pair
    order = stock_up(shop, tiers, 10, staff)
    orders.confirm_receipt(user=shop.owner, order_id=order.id)
    ledger.settle_due(now=clock.now() + dt.timedelta(days=30))
    balances = ledger_queries.balances(ledger_queries.supplier_owner(supplier.id), "CNY")
    assert (balances["pending"], balances["available"]) == (0, 55_000)


# The SKUs with their products and suppliers, their tiers, the shop's holding
# rows (and one insert for those it never held) and their lock, the three counts
# of the holdings and the recent offline sales, the stock lock and its update,
# the order, its fulfilments, its lines and the history of both.
WHOLESALE_ORDER_QUERIES = 16


@pytest.mark.parametrize("sku_count", [1, 5])
@pytest.mark.parametrize("held_before", [False, True])
def test_a_wholesale_order_runs_the_same_queries_for_one_sku_or_five(
    supplier_pair, shop, sku_count, held_before
):
    _, staff = supplier_pair
    product = testing.make_product(
        staff=staff,
        skus=[
            {
                "code": testing.unique("W-"),
                "name": f"{number} kg",
                "supply_price": 6000,
                "retail_min": 8000,
                "retail_max": 12000,
                "suggested_retail_price": 9900,
                "stock": 100,
            }
            for number in range(5)
        ],
    )
    skus = list(product.skus.order_by("id"))[:sku_count]
    for sku in skus:
        services.set_tiers(user=staff, sku_id=sku.id, tiers=[Tier(1, 5000)])
    lines = [services.LineRequest(sku.id, 2) for sku in skus]
    if held_before:
        services.place_order(user=shop.owner, shop=shop, lines=lines)
    expected = WHOLESALE_ORDER_QUERIES - (1 if held_before else 0)

    with transaction.atomic(), testing.assert_query_count(expected):
        order = services.place_order(user=shop.owner, shop=shop, lines=lines)

    assert order.lines.count() == sku_count


def test_wholesale_orders_are_neither_capped_as_unpaid_nor_self_purchases(tiers, shop, settings):
    settings.KINSHOP_HOLDING_FLOOR = 60
    # sixty unpaid units at once: the consumer cap on unpaid units does not apply
    order = buy(shop, tiers, 60)
    assert settings.KINSHOP_MAX_UNPAID_UNITS < 60
    assert order_queries.unpaid_units(buyer=shop.owner, sku_ids=[tiers.id], at=clock.now()) == {}
    # and paid, the keeper's stock-up is no purchase from themselves
    pay(order)
    report = ledger_queries.self_purchases()
    assert (report["orders"], report["self_purchase_orders"]) == (0, 0)
