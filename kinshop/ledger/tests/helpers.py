"""Orders built directly with the ORM, already paid: the ledger's tests do not
depend on the order services (written separately)."""

from __future__ import annotations

import datetime as dt

from kinshop.accounts import services as accounts
from kinshop.core import clock
from kinshop.ledger import services as ledger
from kinshop.orders.models import Fulfilment, Order, OrderLine, Refund
from kinshop.testing import make_user, new_id_number, unique


def make_paid_order(
    *,
    shop,
    product,
    buyer=None,
    sharer=None,
    lines: int = 1,
    quantity: int = 1,
    unit_price: int = 9900,
    unit_supply_price: int = 6000,
    commission_rate_bp: int = 1000,
    platform_fee_bp: int = 200,
    status: str = Order.Status.PAID,
    capture: bool = True,
) -> Order:
    """A paid order of `lines` identical lines; its capture is recorded."""
    buyer = buyer or make_user(unique("buyer"))
    sku = product.skus.order_by("id").first()
    now = clock.now()
    line_total = unit_price * quantity
    order = Order.objects.create(
        buyer=buyer,
        shop=shop,
        status=status,
        total=line_total * lines,
        recipient_name="Wang Fang",
        recipient_phone="13800000000",
        region="Zhejiang Hangzhou",
        address_detail="1 West Lake Road",
        payment_deadline=now + dt.timedelta(minutes=30),
        created_at=now,
        paid_at=now,
    )
    fulfilment = Fulfilment.objects.create(
        order=order, supplier=product.supplier, status=Fulfilment.Status.TO_SHIP
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
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
                line_total=line_total,
                unit_supply_price=unit_supply_price,
                commission_rate_bp=commission_rate_bp,
                platform_fee_bp=platform_fee_bp,
                commission_beneficiary=sharer,
            )
            for _ in range(lines)
        ]
    )
    if capture:
        ledger.record_capture(order=order)
    return order


def complete(order: Order, *, days_ago: int = 0) -> Order:
    order.status = Order.Status.COMPLETED
    order.completed_at = clock.now() - dt.timedelta(days=days_ago)
    order.save(update_fields=["status", "completed_at"])
    return order


def refund_order(order: Order, amount: int, allocations: dict[int, int] | None = None) -> Refund:
    """A succeeded refund recorded in the ledger, as the order services will do."""
    if allocations is None:
        remaining = [
            (line.pk, line.line_total - line.refunded_amount) for line in order.lines.all()
        ]
        from kinshop.orders.rules import allocate_refund

        allocations = allocate_refund(amount, remaining)
    refund = Refund.objects.create(
        order=order,
        amount=amount,
        reason="broken",
        status=Refund.Status.SUCCEEDED,
        requested_by=order.buyer,
        created_at=clock.now(),
        succeeded_at=clock.now(),
    )
    ledger.record_refund(refund=refund, allocations=allocations)
    for line in order.lines.filter(pk__in=allocations):
        line.refunded_amount += allocations[line.pk]
        line.save(update_fields=["refunded_amount"])
    order.refunded_amount += amount
    if order.refunded_amount == order.total:
        order.status = Order.Status.REFUNDED
    order.save(update_fields=["refunded_amount", "status"])
    return refund


def verified(user):
    accounts.verify_identity(user=user, real_name="Wang Fang", id_number=new_id_number())
    return user
