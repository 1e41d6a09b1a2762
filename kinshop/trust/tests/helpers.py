"""Orders made through the real services: placed, paid in the sandbox, shipped,
received. Trust reads what those services record."""

from __future__ import annotations

from kinshop.orders import services as orders
from kinshop.orders.models import Order
from kinshop.payments import services as payments
from kinshop.sharing import services as sharing
from kinshop.testing import commit, make_user, unique

COUNTER = iter(range(10_000_000, 99_999_999))


def address(*, detail: str | None = None, phone: str | None = None) -> orders.Address:
    return orders.Address(
        "王小明",
        phone or f"139{next(COUNTER):08d}",
        "浙江省杭州市",
        detail or f"文三路 {next(COUNTER)} 号",
    )


def buy(
    *,
    shop,
    product,
    buyer=None,
    sharer=None,
    quantity: int = 1,
    pay: bool = True,
    receive: bool = False,
    staff=None,
    detail: str | None = None,
) -> Order:
    buyer = buyer or make_user(unique("buyer"))
    code = (
        sharing.create_share_link(sharer=sharer, shop=shop, product=product).code if sharer else ""
    )
    order = orders.place_order(
        buyer=buyer,
        shop=shop,
        lines=[orders.LineRequest(product.skus.order_by("id").first().id, quantity)],
        address=address(detail=detail),
        share_code=code,
    )
    if pay:
        payment = payments.start_payment(user=buyer, order_id=order.id, provider="sandbox")
        payments.sandbox_confirm(user=buyer, payment_id=payment.id)
        commit()
    if receive:
        orders.ship(user=staff, order_id=order.id, carrier="SF", tracking_no="SF1")
        orders.confirm_receipt(user=buyer, order_id=order.id)
    order.refresh_from_db()
    return order


def refund_fully(order: Order, operator) -> None:
    refund = orders.request_refund(
        user=operator, order_id=order.id, amount=order.total - order.refunded_amount, reason="test"
    )
    payments.approve_refund(user=operator, refund_id=refund.id)
    commit()
