"""The unpaid-units cap under concurrency, on PostgreSQL with real threads: a
buyer (or their linked accounts) racing orders of one SKU never ends up holding
more than `KINSHOP_MAX_UNPAID_UNITS` unpaid units of it."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.catalog.models import SKU
from kinshop.orders.models import OrderLine
from tests.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def address(phone: str) -> dict:
    return {"name": "韩梅梅", "phone": phone, "region": "上海市", "detail": "南京东路 2 号"}


@pytest.fixture
def plenty():
    with transaction.atomic():
        _, staff = testing.make_supplier()
        product = testing.make_product(staff=staff, title="热卖 Popular")
        sku = product.skus.get()
        SKU.objects.filter(pk=sku.pk).update(stock=1000)
        shop = testing.make_shop(products=[product])
    return shop, sku


def payload(shop, sku, phone: str, quantity: int) -> dict:
    return {
        "shop": shop.handle,
        "lines": [{"sku_id": sku.id, "quantity": quantity}],
        "address": address(phone),
    }


def unpaid_units(sku) -> int:
    return sum(
        OrderLine.objects.filter(sku=sku, order__status="pending_payment").values_list(
            "quantity", flat=True
        )
    )


def test_one_buyer_racing_ten_orders_holds_at_most_ten_unpaid_units(plenty):
    shop, sku = plenty
    buyer = testing.make_user()
    clients = [testing.ApiClient(buyer) for _ in range(10)]

    results = run_together(
        10, lambda i: clients[i].post("/orders", payload(shop, sku, "13700000001", 3))
    )

    statuses = Counter(getattr(result, "status_code", repr(result)) for result in results)
    assert statuses == {201: 3, 409: 7}
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"too_many_unpaid"}
    assert unpaid_units(sku) == 9
    assert SKU.objects.get(pk=sku.pk).stock == 1000 - 9


def test_linked_accounts_racing_share_one_allowance(plenty):
    shop, sku = plenty
    # eight accounts of one person: each ships to the same phone, written differently
    spellings = ["13700000002", "+86 137 0000 0002", "0086-13700000002", "8613700000002"] * 2
    clients = [testing.ApiClient(testing.make_user()) for _ in spellings]

    results = run_together(
        len(spellings),
        lambda i: clients[i].post("/orders", payload(shop, sku, spellings[i], 4)),
    )

    statuses = Counter(getattr(result, "status_code", repr(result)) for result in results)
    assert statuses == {201: 2, 409: 6}
    assert unpaid_units(sku) == 8
