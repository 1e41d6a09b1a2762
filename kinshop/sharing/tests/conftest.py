from __future__ import annotations

import datetime as dt

import pytest

from kinshop import testing
from kinshop.accounts import services as accounts
from kinshop.core import clock
from kinshop.orders.models import Fulfilment, Order, OrderLine


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Each test signs up several people; a slow hash only slows the suite here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sharer(db):
    return testing.make_user("sharer", phone="13800000001", email="sharer@example.com")


@pytest.fixture
def buyer(db):
    return testing.make_user("buyer", phone="13900000002", email="buyer@example.com")


@pytest.fixture
def last_click(settings):
    settings.KINSHOP_ATTRIBUTION = "last_click"
    settings.KINSHOP_ATTRIBUTION_DAYS = 7


@pytest.fixture
def binding(settings):
    settings.KINSHOP_ATTRIBUTION = "binding"
    settings.KINSHOP_ATTRIBUTION_DAYS = 30


def days_ago(days: float) -> dt.datetime:
    return clock.now() - dt.timedelta(days=days)


def make_order(*, buyer, shop, product, recipient_phone="13700000000", status="paid",
               beneficiary=None, click=None, quantity=1, unit_price=9900):  # fmt: skip
    """An order with one line, written straight through the ORM."""
    sku = product.skus.first()
    now = clock.now()
    order = Order.objects.create(
        buyer=buyer,
        shop=shop,
        status=status,
        total=unit_price * quantity,
        recipient_name="收件人",
        recipient_phone=recipient_phone,
        region="浙江省 杭州市",
        address_detail="文一西路 1 号",
        payment_deadline=now + dt.timedelta(minutes=30),
        created_at=now,
    )
    accounts.note_identifiers(user=buyer, phones=[recipient_phone], at=now)  # as place_order does
    fulfilment = Fulfilment.objects.create(order=order, supplier=product.supplier)
    OrderLine.objects.create(
        order=order,
        fulfilment=fulfilment,
        shop=shop,
        supplier=product.supplier,
        product=product,
        sku=sku,
        title=product.title,
        sku_name=sku.name,
        quantity=quantity,
        unit_price=unit_price,
        line_total=unit_price * quantity,
        unit_supply_price=sku.supply_price,
        commission_rate_bp=product.commission_rate_bp,
        platform_fee_bp=0,
        commission_beneficiary=beneficiary,
        attribution_click=click,
        attribution_policy="last_click" if click else "",
    )
    return order
