from __future__ import annotations

import pytest

from kinshop import testing

ADDRESS = {
    "name": "王小明",
    "phone": "13800138000",
    "region": "浙江省杭州市西湖区",
    "detail": "文三路 90 号",
}


@pytest.fixture
def buyer(db):
    return testing.make_user("buyer")


@pytest.fixture
def sku(product):
    return product.skus.get()


def order_payload(shop, sku, quantity=1, **extra):
    return {
        "shop": shop.handle,
        "lines": [{"sku_id": sku.id, "quantity": quantity}],
        "address": ADDRESS,
        **extra,
    }
