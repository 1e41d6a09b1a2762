"""Steps of a wholesale order through the real services."""

from __future__ import annotations

from kinshop.orders import services as orders
from kinshop.payments import services as payments
from kinshop.wholesale import services as wholesale


def buy(shop, sku, quantity):
    return wholesale.place_order(
        user=shop.owner, shop=shop, lines=[wholesale.LineRequest(sku.id, quantity)]
    )


def pay(order):
    payment = payments.start_payment(user=order.buyer, order_id=order.id, provider="sandbox")
    payments.sandbox_confirm(user=order.buyer, payment_id=payment.id)
    order.refresh_from_db()
    return order


def ship(order, staff):
    orders.ship(user=staff, order_id=order.id, carrier="SF", tracking_no=f"SF{order.id:06d}")
    order.refresh_from_db()
    return order


def stock_up(shop, sku, quantity, staff):
    """Bought, paid and shipped: the units are the shop's holdings."""
    return ship(pay(buy(shop, sku, quantity)), staff)
