from __future__ import annotations

import datetime as dt

import pytest

from kinshop import testing
from kinshop.core import clock

ADDRESS = {"name": "韩梅梅", "phone": "13800138000", "region": "杭州市", "detail": "西湖路 1 号"}


def address(phone: str) -> dict:
    return {**ADDRESS, "phone": phone}


@pytest.fixture
def sku(product):
    """Supply 6000, band 8000..12000, commission 10%, 100 in stock; the shop sells it at 9900."""
    return product.skus.get()


@pytest.fixture
def keeper(shop):
    return testing.ApiClient(shop.owner)


@pytest.fixture
def group_buy(keeper, shop, sku):
    response = keeper.post(
        f"/shops/{shop.handle}/group-buys",
        {
            "sku_id": sku.id,
            "group_price": 8800,
            "group_size": 3,
            "hours": 24,
            "ends_at": (clock.now() + dt.timedelta(days=7)).isoformat(),
            "leader_price": 8500,
        },
    )
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def flash_sale(keeper, shop, sku):
    now = clock.now()
    response = keeper.post(
        f"/shops/{shop.handle}/flash-sales",
        {
            "sku_id": sku.id,
            "price": 8000,
            "units": 5,
            "per_buyer_limit": 2,
            "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
            "payment_minutes": 10,
        },
    )
    assert response.status_code == 201, response.json()
    return response.json()


_phones = iter(range(13900000000, 13999999999))


def buyer():
    """A client with its own phone, used on its orders."""
    phone = str(next(_phones))
    client = testing.ApiClient(testing.make_user(phone=phone))
    client.phone = phone  # type: ignore[attr-defined]
    return client


def pay(client, order_id: int):
    payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"})
    assert payment.status_code == 201, payment.json()
    return client.post(f"/payments/{payment.json()['id']}/sandbox-confirm")
