"""Read helpers of campaigns and the one place their rows are locked."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from kinshop.campaigns.models import FlashSale, Group, GroupBuy, Presale
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


def flash_units_paid(allotment_ids: list[int]) -> dict[int, int]:
    """Units in paid orders (refunds not taken off, as in `campaign_gmv`) by
    flash sale's allotment, in one query. An allotment's `taken` counts unpaid
    orders too, until they are paid or cancelled at their deadline."""
    rows = (
        Order.objects.filter(allotment_id__in=allotment_ids, paid_at__isnull=False)
        .values("allotment_id")
        .annotate(units=Sum("allotment_units"))
    )
    return {row["allotment_id"]: row["units"] or 0 for row in rows}


def lock_group(group_id: int) -> Group | None:
    return Group.objects.select_for_update().filter(pk=group_id).first()


def lock_group_buy(group_buy_id: int) -> GroupBuy | None:
    return GroupBuy.objects.select_for_update().filter(pk=group_buy_id).first()


def lock_flash_sale(sale_id: int) -> FlashSale | None:
    return FlashSale.objects.select_for_update().select_related("shop").filter(pk=sale_id).first()


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


def live_campaigns(shop_id: int, sku_ids: list[int], now: dt.datetime) -> dict:
    """What a product page shows: the active group buys and their forming
    groups with seats left, flash sales not ended and pre-sales whose balance
    window has not closed, of these SKUs in this shop. Three queries, four when
    a group buy is on."""
    group_buys = list(
        GroupBuy.objects.filter(
            shop_id=shop_id, sku_id__in=sku_ids, status=GroupBuy.Status.ACTIVE, ends_at__gt=now
        ).order_by("id")
    )
    groups: list[Group] = []
    if group_buys:
        groups = list(
            Group.objects.select_related("allotment")
            .filter(
                group_buy__in=group_buys,
                status=Group.Status.FORMING,
                expires_at__gt=now,
                allotment__taken__lt=F("allotment__limit"),
                allotment__failed_at__isnull=True,
            )
            .order_by("expires_at")[:20]
        )
    sales = list(
        FlashSale.objects.select_related("allotment")
        .filter(shop_id=shop_id, sku_id__in=sku_ids, ends_at__gt=now, ended_at__isnull=True)
        .order_by("starts_at")
    )
    presales = list(
        Presale.objects.filter(
            shop_id=shop_id, sku_id__in=sku_ids, balance_ends_at__gt=now
        ).order_by("balance_starts_at", "id")
    )
    return {"group_buys": group_buys, "groups": groups, "flash_sales": sales, "presales": presales}


def presale(presale_id: int) -> Presale:
    found = (
        Presale.objects.select_related("shop", "sku", "sku__product").filter(pk=presale_id).first()
    )
    if found is None:
        raise NotFound("No such pre-sale.", code="presale_not_found")
    return found


def open_groups(group_buy_id: int, now: dt.datetime) -> list[Group]:
    """The forming groups of a group buy that still have a seat, soonest to close first."""
    return list(
        Group.objects.select_related("allotment")
        .filter(
            group_buy_id=group_buy_id,
            status=Group.Status.FORMING,
            expires_at__gt=now,
            allotment__taken__lt=F("allotment__limit"),
            allotment__failed_at__isnull=True,
        )
        .order_by("expires_at")[:20]
    )


def shop_campaigns(shop_id: int) -> dict:
    """The shop console's results: each group buy with its groups formed,
    succeeded and failed, and each flash sale with its units taken (paid
    units: `flash_units_paid`)."""
    group_buys = list(
        GroupBuy.objects.filter(shop_id=shop_id)
        .select_related("sku", "sku__product")
        .annotate(
            formed=Count("groups"),
            succeeded=Count("groups", filter=Q(groups__status=Group.Status.SUCCEEDED)),
            failed=Count("groups", filter=Q(groups__status=Group.Status.FAILED)),
        )
        .order_by("-id")[:50]
    )
    sales = list(
        FlashSale.objects.filter(shop_id=shop_id)
        .select_related("allotment", "sku", "sku__product")
        .order_by("-id")[:50]
    )
    return {"group_buys": group_buys, "flash_sales": sales}


def shop_presales(shop_id: int) -> list[Presale]:
    """The shop console's pre-sales with their results, in one query: orders
    whose deposit was paid, whose balance was paid too, and that lapsed (the
    balance not paid in time: cancelled, the deposit refunded), and the paid
    value of the fully paid ones (refunds not taken off)."""
    order = "orders__order__"
    deposit_paid = Q(**{f"{order}deposit_paid_at__isnull": False})
    fully_paid = Q(**{f"{order}paid_at__isnull": False})
    return list(
        Presale.objects.filter(shop_id=shop_id)
        .select_related("sku", "sku__product")
        .annotate(
            deposits_paid=Count("orders", filter=deposit_paid),
            balances_paid=Count("orders", filter=fully_paid),
            lapsed=Count(
                "orders", filter=deposit_paid & Q(**{f"{order}status": Order.Status.CANCELLED})
            ),
            gmv=Coalesce(Sum(f"{order}total", filter=fully_paid), 0),
        )
        .order_by("-id")[:50]
    )


def campaign_gmv(shop_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """The paid value (order totals, refunds not taken off) of the shop's
    campaign orders: by group buy, and by flash sale's allotment."""
    paid = Order.objects.filter(shop_id=shop_id, paid_at__isnull=False, allotment__isnull=False)
    by_group_buy = (
        paid.filter(allotment__kind=Allotment.Kind.GROUP)
        .annotate(
            group_buy_id=Subquery(
                Group.objects.filter(pk=OuterRef("allotment_id")).values("group_buy_id")[:1]
            )
        )
        .values("group_buy_id")
        .annotate(gmv=Sum("total"))
    )
    by_sale = (
        paid.filter(allotment__kind=Allotment.Kind.FLASH)
        .values("allotment_id")
        .annotate(gmv=Sum("total"))
    )
    return (
        {row["group_buy_id"]: row["gmv"] or 0 for row in by_group_buy},
        {row["allotment_id"]: row["gmv"] or 0 for row in by_sale},
    )
