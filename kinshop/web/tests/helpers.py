"""Orders and commissions made through the services, as people would, for the
page tests (and the admin's)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from kinshop import testing
from kinshop.campaigns import services as campaigns
from kinshop.core import clock
from kinshop.ops import jobs
from kinshop.orders import services as orders
from kinshop.orders.rules import Address, LineRequest
from kinshop.payments import services as payments
from kinshop.sharing import services as sharing

ADDRESS = Address(name="王芳", phone="13800000000", region="浙江 杭州", detail="西湖路 1 号")


def place_paid_order(*, shop, sku, buyer=None, share_code: str = "", quantity: int = 1):
    """An order placed and paid through the services, as a buyer would."""
    buyer = buyer or testing.make_user()
    with transaction.atomic():
        order = orders.place_order(
            buyer=buyer,
            shop=shop,
            lines=[LineRequest(sku_id=sku.id, quantity=quantity)],
            address=ADDRESS,
            share_code=share_code,
        )
        payment = payments.start_payment(user=buyer, order_id=order.id, provider="sandbox")
    with transaction.atomic():
        payments.sandbox_confirm(user=buyer, payment_id=payment.id)
    order.refresh_from_db()
    return order


def settled_commission(shop, product, sharer):
    """A sharer's commission, settled and available: order with their share code,
    paid, shipped, confirmed, and the jobs run past the after-sales window."""
    link = sharing.create_share_link(sharer=sharer, shop=shop, product=product)
    sku = product.skus.first()
    order = place_paid_order(shop=shop, sku=sku, share_code=link.code, quantity=2)
    supplier_staff = product.supplier.memberships.first().user
    with transaction.atomic():
        orders.ship(user=supplier_staff, order_id=order.id, carrier="SF", tracking_no="SF1")
    with transaction.atomic():
        orders.confirm_receipt(user=order.buyer, order_id=order.id)
    jobs.run_due(now=clock.now() + dt.timedelta(days=8))
    return order


def running_flash_sale(*, shop, sku, units: int = 2):
    """A flash sale of `sku` in `shop` that started a minute ago and runs an
    hour: 80 yuan, at most 2 per buyer, 10 minutes to pay."""
    now = clock.now()
    return campaigns.create_flash_sale(
        user=shop.owner,
        shop=shop,
        sku_id=sku.id,
        price=8000,
        units=units,
        per_buyer_limit=2,
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(hours=1),
        payment_minutes=10,
    )
