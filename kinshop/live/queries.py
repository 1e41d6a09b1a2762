"""Read helpers of live rooms, and the one lock of a room."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, Sum

from kinshop.campaigns.models import FlashSale
from kinshop.campaigns.rules import flash_phase
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.live import rules
from kinshop.live.models import Event, LiveRoom, Message, Pin, RoomOrder, Visit
from kinshop.orders.models import Order, OrderLine
from kinshop.sharing.models import Click, ShareLink
from kinshop.shops.models import SelectionPrice

# Orders a report counts: paid, whatever happened after, less what was refunded.
COUNTED = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.COMPLETED)


def room(room_id: int) -> LiveRoom | None:
    return LiveRoom.objects.select_related("shop").filter(pk=room_id).first()


def lock_room(room_id: int) -> LiveRoom | None:
    return LiveRoom.objects.select_for_update().select_related("shop").filter(pk=room_id).first()


def rooms_of_shop(shop_id: int) -> list[LiveRoom]:
    return list(LiveRoom.objects.filter(shop_id=shop_id).order_by("-scheduled_at", "-id")[:50])


def events_after(room_id: int, after: int, *, up_to: int | None = None, limit: int = 500) -> list:
    """The room's kept events after id `after` (and up to `up_to`), in order."""
    events = Event.objects.filter(room_id=room_id, number__gt=after)
    if up_to is not None:
        events = events.filter(number__lte=up_to)
    return list(events.order_by("number").values("number", "kind", "data")[:limit])


def last_event_id(room_id: int) -> int | None:
    return LiveRoom.objects.filter(pk=room_id).values_list("last_event_id", flat=True).first()


def pinned_cards(room_id: int, shop_id: int) -> list[dict]:
    """The pinned products as cards: title, the lowest live price of the shop
    and the stock left across its SKUs. Three queries whatever the pins."""
    pins = list(Pin.objects.filter(room_id=room_id).select_related("product"))
    product_ids = [pin.product_id for pin in pins]
    prices: dict[int, int] = {}
    for product_id, price in SelectionPrice.objects.filter(
        shop_id=shop_id, sku__product_id__in=product_ids
    ).values_list("sku__product_id", "retail_price"):
        prices[product_id] = min(price, prices.get(product_id, price))
    stock = dict(
        SKU.objects.filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(left=Sum("stock"))
        .values_list("product_id", "left")
    )
    return [card(pin, prices.get(pin.product_id), stock.get(pin.product_id, 0)) for pin in pins]


def card(pin: Pin, price: int | None, stock: int) -> dict:
    return {
        "product_id": pin.product_id,
        "title": pin.product.title,
        "price": price,
        "stock": int(stock or 0),
        "in_stock": bool(stock),
    }


def recent_messages(room_id: int, limit: int = 50) -> list[Message]:
    messages = Message.objects.filter(room_id=room_id).select_related("author").order_by("-id")
    return list(reversed(messages[:limit]))


def entry_code(*, room_id: int, viewer, since: dt.datetime) -> str:
    """The share code of the room link the viewer last came in through, within
    the attribution window ("" if none)."""
    return (
        Click.objects.filter(viewer=viewer, link__live_room_id=room_id, at__gt=since)
        .order_by("-at", "-id")
        .values_list("link__code", flat=True)
        .first()
        or ""
    )


def report(room_id: int) -> dict:
    """Unique viewers, peak concurrent viewers, orders, GMV (net of refunds),
    conversion and the sharers of the room by what they brought."""
    live_room = LiveRoom.objects.get(pk=room_id)
    viewers = Visit.objects.filter(room_id=room_id).count()
    # The room's orders: placed in the room, or placed anywhere (the normal
    # checkout) with a line attributed through one of the room's links. Each
    # order once, whichever way (or both ways) it belongs to the room.
    placed_here = RoomOrder.objects.filter(room_id=room_id).values("order_id")
    brought_here = OrderLine.objects.filter(attribution_click__link__live_room_id=room_id).values(
        "order_id"
    )
    order_ids = list(
        Order.objects.filter(Q(pk__in=placed_here) | Q(pk__in=brought_here), status__in=COUNTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    totals = Order.objects.filter(pk__in=order_ids).aggregate(
        total=Sum("total"), refunded=Sum("refunded_amount"), buyers=Count("buyer", distinct=True)
    )
    gmv = (totals["total"] or 0) - (totals["refunded"] or 0)
    links = ShareLink.objects.filter(live_room_id=room_id)
    # Clicks are the people each sharer brought into the room: distinct
    # accounts, and distinct devices not signed in (the click a checkout
    # records for its share code is the same person again).
    room_clicks = Click.objects.filter(link__in=links)
    clicks: dict[int, int] = {}
    for counted in (
        room_clicks.filter(viewer__isnull=False)
        .values("sharer_id")
        .annotate(n=Count("viewer", distinct=True)),
        room_clicks.filter(viewer__isnull=True)
        .exclude(visitor_key="")
        .values("sharer_id")
        .annotate(n=Count("visitor_key", distinct=True)),
    ):
        for counts in counted:
            clicks[counts["sharer_id"]] = clicks.get(counts["sharer_id"], 0) + counts["n"]
    sharers: dict[int, dict] = {
        sharer_id: {"user_id": sharer_id, "clicks": n, "orders": 0, "gmv": 0, "commission": 0}
        for sharer_id, n in clicks.items()
    }
    lines = OrderLine.objects.filter(
        order_id__in=order_ids, commission_beneficiary__isnull=False
    ).values(
        "order_id",
        "commission_beneficiary_id",
        "line_total",
        "refunded_amount",
        "commission_rate_bp",
    )
    orders_of: dict[int, set[int]] = {}
    for line in lines:
        sharer_id = line["commission_beneficiary_id"]
        row = sharers.setdefault(
            sharer_id,
            {"user_id": sharer_id, "clicks": 0, "orders": 0, "gmv": 0, "commission": 0},
        )
        paid = line["line_total"] - line["refunded_amount"]
        row["gmv"] += paid
        row["commission"] += rules.net_commission(
            line_total=line["line_total"],
            refunded=line["refunded_amount"],
            rate_bp=line["commission_rate_bp"],
        )
        orders_of.setdefault(sharer_id, set()).add(line["order_id"])
    for sharer_id, orders in orders_of.items():
        sharers[sharer_id]["orders"] = len(orders)
    top = sorted(
        sharers.values(), key=lambda r: (-r["gmv"], -r["orders"], -r["clicks"], r["user_id"])
    )
    return {
        "viewers": viewers,
        "peak_viewers": live_room.peak_viewers,
        "orders": len(order_ids),
        "gmv": gmv,
        "buyers": totals["buyers"] or 0,
        "top_sharers": top[:20],
    }


def deal_card(sale: FlashSale, *, title: str, now: dt.datetime | None = None) -> dict:
    """A flash deal of the room as its viewers see it (and its `deal` events
    carry): price, units left, its window and phase; pages count down to
    `ends_at` (or `starts_at`) from the phase and times it shows."""
    allotment = sale.allotment
    return {
        "id": sale.pk,
        "sku_id": sale.sku_id,
        "title": title,
        "price": sale.price,
        "units": sale.units,
        "left": max(allotment.limit - allotment.taken, 0),
        "per_buyer_limit": sale.per_buyer_limit,
        "status": flash_phase(
            starts_at=sale.starts_at,
            ends_at=sale.ends_at,
            ended_at=sale.ended_at,
            now=now or clock.now(),
        ),
        "starts_at": sale.starts_at.isoformat(),
        "ends_at": sale.ends_at.isoformat(),
    }


def room_deals(room_id: int, *, running_only: bool = False) -> list[dict]:
    """The room's flash deals, newest first (at most 20): one query."""
    now = clock.now()
    sales = FlashSale.objects.filter(live_room_id=room_id).select_related(
        "allotment", "sku__product"
    )
    if running_only:
        sales = sales.filter(ends_at__gt=now, ended_at__isnull=True)
    return [
        deal_card(sale, title=_deal_title(sale), now=now) for sale in sales.order_by("-id")[:20]
    ]


def _deal_title(sale: FlashSale) -> str:
    return f"{sale.sku.product.title} · {sale.sku.name}"


def deal(sale_id: int) -> dict | None:
    sale = FlashSale.objects.select_related("allotment", "sku__product").filter(pk=sale_id).first()
    return None if sale is None else deal_card(sale, title=_deal_title(sale))
