"""The written-out reads of orders load what the ORM would."""

from __future__ import annotations

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.catalog.models import SKU
from kinshop.ledger.tests.helpers import make_paid_order
from kinshop.orders import queries
from kinshop.orders.models import Order

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def test_the_locked_skus_are_the_orms_with_the_shops_price_and_the_shop():
    # given a shop selling one of two SKUs, and a SKU sold nowhere
    _, staff = testing.make_supplier()
    sold, other = testing.make_product(staff=staff), testing.make_product(staff=staff)
    shop = testing.make_shop(handle="lockshop", products=[sold], price=11900)
    sku_ids = [other.skus.get().pk, sold.skus.get().pk]
    # when they are locked through the shop's handle (any case), in one statement
    with transaction.atomic(), testing.assert_query_count(1):
        found, skus = queries.lock_skus_with_shop("LockShop", sku_ids)
    # then they come in primary-key order, each SKU, product and supplier as the
    # ORM loads them, with this shop's price where it sells one
    expected = list(SKU.objects.select_related("product", "supplier").order_by("pk"))
    assert [sku.pk for sku in skus] == sorted(sku_ids)
    for got, want in zip(skus, expected, strict=True):
        assert _fields(got) == _fields(want)
        assert _fields(got.product) == _fields(want.product)
        assert _fields(got.supplier) == _fields(want.supplier)
        assert got.product.is_active is True and got.supplier.is_verified
        assert got.shop_price == (11900 if got.product_id == sold.pk else None)
    assert (found.pk, found.owner_id, found.is_suspended) == (shop.pk, shop.owner_id, False)
    # and by the shop's id the same rows come, with no shop found by handle
    with transaction.atomic():
        by_id = queries.lock_skus_with_prices(shop.pk, sku_ids)
    assert [(sku.pk, sku.shop_price) for sku in by_id] == [(sku.pk, sku.shop_price) for sku in skus]
    assert queries.lock_skus_with_shop("nowhere", sku_ids)[0] is None


def test_the_locked_order_is_the_orms_found_by_id_or_through_a_payment(shop, product):
    order = make_paid_order(shop=shop, product=product)
    with transaction.atomic(), testing.assert_query_count(1):
        by_id = queries.lock_order_or_none(order.pk)
    with transaction.atomic():
        through = "(SELECT line.order_id FROM orders_orderline line WHERE line.id = %s)"
        found = queries.lock_order_or_none((through, [order.lines.get().pk]))
        missing = queries.lock_order_or_none((through, [0]))
    want = _fields(Order.objects.get(pk=order.pk))
    assert _fields(by_id) == _fields(found) == want
    assert by_id.paid_at.tzinfo is not None and missing is None


def test_the_lines_of_a_capture_are_the_orms_with_their_fulfilments(shop, product):
    order = make_paid_order(shop=shop, product=product, lines=2)
    with testing.assert_query_count(1):
        lines = queries.lines_with_fulfilments(order.pk)
    expected = list(order.lines.select_related("fulfilment").order_by("pk"))
    assert [_fields(line) for line in lines] == [_fields(line) for line in expected]
    assert [_fields(line.fulfilment) for line in lines] == [
        _fields(line.fulfilment) for line in expected
    ]
