"""Read helpers of campaigns and the one place their rows are locked."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from kinshop.campaigns.models import FlashSale, Group, GroupBuy
from kinshop.core.errors import NotFound
from kinshop.orders.models import Allotment, Order, Refund
from kinshop.shops.models import SelectionPrice


def group_buy(group_buy_id: int) -> GroupBuy:
    found = GroupBuy.objects.select_related("shop", "sku").filter(pk=group_buy_id).first()
    if found is None:
        raise NotFound("No such group buy.", code="group_buy_not_found")
    return found


def group(group_id: int) -> Group:
    found = (
        Group.objects.select_related("allotment", "group_buy", "shop").filter(pk=group_id).first()
    )
    if found is None:
        raise NotFound("No such group.", code="group_not_found")
    return found


def flash_sale(sale_id: int) -> FlashSale:
    found = FlashSale.objects.select_related("allotment", "shop").filter(pk=sale_id).first()
    if found is None:
        raise NotFound("No such flash sale.", code="flash_sale_not_found")
    return found


def lock_group(group_id: int) -> Group | None:
    return Group.objects.select_for_update().filter(pk=group_id).first()


def lock_group_buy(group_buy_id: int) -> GroupBuy | None:
    return GroupBuy.objects.select_for_update().filter(pk=group_buy_id).first()


def shop_price(shop_id: int, sku_id: int) -> int | None:
    """The shop's retail price of a SKU it sells, or None."""
    return (
        SelectionPrice.objects.filter(shop_id=shop_id, sku_id=sku_id)
        .values_list("retail_price", flat=True)
        .first()
    )


def groups_to_decide(now: dt.datetime) -> QuerySet[Group]:
    """Forming groups whose time is up or whose last member has paid."""
    return Group.objects.filter(status=Group.Status.FORMING).filter(
        Q(expires_at__lte=now) | Q(allotment__completed_at__isnull=False)
    )


def orders_to_unwind() -> QuerySet[Order]:
    """Orders of failed groups still to cancel (unpaid) or refund (paid, with no
    refund yet)."""
    has_refund = Exists(Refund.objects.filter(order=OuterRef("pk")))
    return (
        Order.objects.filter(
            allotment__kind=Allotment.Kind.GROUP, allotment__failed_at__isnull=False
        )
        .filter(
            Q(status=Order.Status.PENDING_PAYMENT)
            | Q(status=Order.Status.PAID, awaiting_group=True)
        )
        .exclude(has_refund)
    )
