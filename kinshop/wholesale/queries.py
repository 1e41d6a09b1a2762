"""Read helpers of wholesale: tiers, the units each holding counts, retail
reach, who may act on a shop's wholesale, and the lock of holdings (always in
primary-key order)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.core.errors import Forbidden, NotFound
from kinshop.orders.models import Fulfilment, OrderLine, Refund
from kinshop.shops.models import Shop
from kinshop.wholesale import rules
from kinshop.wholesale.models import Holding, OfflineSale, WholesaleReturn, WholesaleTier

OFFLINE_WINDOW = dt.timedelta(days=30)
_NOT_SHIPPED = (Fulfilment.Status.WAITING, Fulfilment.Status.TO_SHIP)
# A return whose refund was refused, or could not be paid, gives its units back.
RETURN_VOID = (Refund.Status.REJECTED, Refund.Status.FAILED)


# ---- who may act -------------------------------------------------------------


def shop_for_keeper(user, handle: str) -> Shop:
    """The shop at `handle` when `user` keeps it: 404 when there is no such
    shop, 403 when it is someone else's."""
    shop = (
        Shop.objects.select_related("owner").filter(handle=handle.lower(), is_active=True).first()
    )
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    if shop.owner_id != user.id:
        raise Forbidden("Only the shop's keeper can do this.", code="not_shopkeeper")
    return shop


def shop_for_reader(user, handle: str) -> Shop:
    """The shop at `handle` when `user` keeps it or is an operator."""
    shop = Shop.objects.select_related("owner").filter(handle=handle.lower()).first()
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    if shop.owner_id != user.id and not user.is_staff:
        raise Forbidden("Only the shop's keeper or an operator can see this.", code="not_allowed")
    return shop


# ---- tiers ---------------------------------------------------------------------


def tiers_of(sku_ids) -> dict[int, list[rules.Tier]]:
    """SKU id → its tiers by rising quantity (SKUs without tiers are absent)."""
    tiers: dict[int, list[rules.Tier]] = defaultdict(list)
    for sku_id, min_quantity, unit_price in (
        WholesaleTier.objects.filter(sku_id__in=list(sku_ids))
        .order_by("sku_id", "min_quantity")
        .values_list("sku_id", "min_quantity", "unit_price")
    ):
        tiers[sku_id].append(rules.Tier(min_quantity, unit_price))
    return dict(tiers)


def wholesale_skus(supplier_id: int | None = None) -> QuerySet[SKU]:
    """SKUs with tiers, of verified suppliers' active products (the wholesale
    market), or all of one supplier's SKUs with tiers."""
    skus = SKU.objects.filter(wholesale_tiers__isnull=False).distinct()
    if supplier_id is None:
        skus = skus.filter(product__is_active=True, supplier__status="verified")
    else:
        skus = skus.filter(supplier_id=supplier_id)
    return skus.select_related("product", "supplier").order_by("product_id", "id")


# ---- holdings -------------------------------------------------------------------


def counts(shop_id: int, sku_ids=None) -> dict[int, rules.Counts]:
    """SKU id → the units of the shop's holding, in three queries whatever the
    number of SKUs."""
    lines = OrderLine.objects.filter(shop_id=shop_id, is_wholesale=True)
    sales = OfflineSale.objects.filter(shop_id=shop_id)
    returns = WholesaleReturn.objects.filter(shop_id=shop_id).exclude(
        refund__status__in=RETURN_VOID
    )
    if sku_ids is not None:
        sku_ids = list(sku_ids)
        lines, sales, returns = (
            lines.filter(sku_id__in=sku_ids),
            sales.filter(sku_id__in=sku_ids),
            returns.filter(sku_id__in=sku_ids),
        )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        lines.values("sku_id")
        .annotate(
            bought=Sum("quantity", filter=Q(fulfilment__status=Fulfilment.Status.SHIPPED)),
            on_order=Sum("quantity", filter=Q(fulfilment__status__in=_NOT_SHIPPED)),
        )
        .order_by()
    ):
        found[row["sku_id"]].update(bought=row["bought"] or 0, on_order=row["on_order"] or 0)
    for sale in sales.values("sku_id").annotate(total=Sum("quantity")).order_by():
        found[sale["sku_id"]]["sold_offline"] = sale["total"] or 0
    for back in returns.values("sku_id").annotate(total=Sum("quantity")).order_by():
        found[back["sku_id"]]["returned"] = back["total"] or 0
    return {sku_id: rules.Counts(**values) for sku_id, values in found.items()}


def sold_offline_since(shop_id: int, sku_ids, since: dt.datetime) -> dict[int, int]:
    return dict(
        OfflineSale.objects.filter(shop_id=shop_id, sku_id__in=list(sku_ids), sold_at__gte=since)
        .values("sku_id")
        .annotate(total=Sum("quantity"))
        .order_by()
        .values_list("sku_id", "total")
    )


def lock_holdings(shop: Shop, skus) -> list[Holding]:
    """The shop's holding rows of these SKUs, created when missing and locked in
    primary-key order: every wholesale order, offline sale and return of one
    (shop, SKU) takes this lock first, so none of them decides on stale counts.
    Two statements to lock, plus one insert when a row is new."""
    skus = list(skus)
    wanted = {sku.id for sku in skus}
    existing = set(
        Holding.objects.filter(shop=shop, sku_id__in=wanted).values_list("sku_id", flat=True)
    )
    if missing := wanted - existing:
        now = clock.now()
        # A concurrent first order of the same SKU inserts the same row: on
        # PostgreSQL this waits for it and then skips, and the lock below queues.
        Holding.objects.bulk_create(
            [
                Holding(shop=shop, sku=sku, supplier_id=sku.supplier_id, created_at=now)
                for sku in skus
                if sku.id in missing
            ],
            ignore_conflicts=True,
        )
    return list(
        Holding.objects.select_for_update().filter(shop=shop, sku_id__in=wanted).order_by("pk")
    )


def lock_holding(shop: Shop, sku_id: int) -> Holding | None:
    return Holding.objects.select_for_update().filter(shop=shop, sku_id=sku_id).first()


@dataclass(frozen=True)
class HoldingRow:
    """One line of a holdings table: the SKU, its counts, the cap and how long
    the oldest unit has been held."""

    holding: Holding
    counts: rules.Counts
    sold_offline_30_days: int
    cap: int
    held_since: dt.datetime | None

    @property
    def sku(self) -> SKU:
        return self.holding.sku


def holding_rows(
    *, shop_id: int | None = None, supplier_id: int | None = None, floor: int
) -> list[HoldingRow]:
    """Every holding of a shop (or of a supplier's SKUs across shops), the units
    held longest first and then those held none. A fixed number of queries."""
    holdings = Holding.objects.select_related("sku", "sku__product", "shop", "supplier")
    if shop_id is not None:
        holdings = holdings.filter(shop_id=shop_id)
    if supplier_id is not None:
        holdings = holdings.filter(supplier_id=supplier_id)
    holdings_list = list(holdings.order_by("id"))
    if not holdings_list:
        return []
    keys = {(holding.shop_id, holding.sku_id) for holding in holdings_list}
    shop_ids = {shop for shop, _ in keys}
    sku_ids = {sku for _, sku in keys}
    by_key: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    shipments: dict[tuple[int, int], list[tuple[dt.datetime, int]]] = defaultdict(list)
    for shop, sku, status, shipped_at, quantity in OrderLine.objects.filter(
        is_wholesale=True, shop_id__in=shop_ids, sku_id__in=sku_ids
    ).values_list("shop_id", "sku_id", "fulfilment__status", "fulfilment__shipped_at", "quantity"):
        values = by_key[shop, sku]
        if status == Fulfilment.Status.SHIPPED and shipped_at is not None:
            values["bought"] = values.get("bought", 0) + quantity
            shipments[shop, sku].append((shipped_at, quantity))
        elif status in _NOT_SHIPPED:
            values["on_order"] = values.get("on_order", 0) + quantity
    since = clock.now() - OFFLINE_WINDOW
    recent: dict[tuple[int, int], int] = {}
    for row in (
        OfflineSale.objects.filter(shop_id__in=shop_ids, sku_id__in=sku_ids)
        .values("shop_id", "sku_id")
        .annotate(total=Sum("quantity"), recent=Sum("quantity", filter=Q(sold_at__gte=since)))
        .order_by()
    ):
        by_key[row["shop_id"], row["sku_id"]]["sold_offline"] = row["total"] or 0
        recent[row["shop_id"], row["sku_id"]] = row["recent"] or 0
    for back in (
        WholesaleReturn.objects.filter(shop_id__in=shop_ids, sku_id__in=sku_ids)
        .exclude(refund__status__in=RETURN_VOID)
        .values("shop_id", "sku_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    ):
        by_key[back["shop_id"], back["sku_id"]]["returned"] = back["total"] or 0
    rows = []
    for holding in holdings_list:
        key = (holding.shop_id, holding.sku_id)
        counts_ = rules.Counts(**by_key.get(key, {}))
        rows.append(
            HoldingRow(
                holding=holding,
                counts=counts_,
                sold_offline_30_days=recent.get(key, 0),
                cap=rules.holding_cap(floor=floor, sold_offline_30_days=recent.get(key, 0)),
                held_since=rules.held_since(
                    shipments.get(key, []), consumed=counts_.sold_offline + counts_.returned
                )
                if counts_.held > 0
                else None,
            )
        )
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda row: (row.held_since or far_future, row.holding.id))
    return rows


def offline_sales(shop_id: int) -> QuerySet[OfflineSale]:
    return OfflineSale.objects.filter(shop_id=shop_id).select_related("sku", "sku__product")


# ---- retail reach ----------------------------------------------------------------


def reach_sources() -> tuple[QuerySet[OrderLine], QuerySet[OfflineSale], QuerySet[WholesaleReturn]]:
    """The facts retail reach counts, and the one definition of them (retail
    reach here, and insight's daily rollup of it): order lines whose part of
    the order was shipped (drop-shipped or wholesale: the units left their
    supplier), offline sales (wholesale units that reached a consumer), and
    returns whose refund succeeded (units back at the supplier)."""
    return (
        OrderLine.objects.filter(fulfilment__status=Fulfilment.Status.SHIPPED),
        OfflineSale.objects.all(),
        WholesaleReturn.objects.filter(refund__status=Refund.Status.SUCCEEDED),
    )


def reach_days(
    since: dt.datetime | None = None,
) -> tuple[QuerySet[Any, Any], QuerySet[Any, Any], QuerySet[Any, Any]]:
    """The same facts per shop, supplier and local day of the moment they
    happened (a line's shipment, a sale's `sold_at`, a return's refund
    succeeding), from `since` on: lines as `(shop_id, supplier_id, day,
    drop_shipped, wholesale_shipped)`, sales as `(..., sold_offline)` and
    returns as `(..., returned)`. Grouped querysets, for insight's set-based
    rollup to select from."""
    lines, sales, returns = reach_sources()
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if since is not None:
        lines = lines.filter(fulfilment__shipped_at__gte=since)
        sales = sales.filter(sold_at__gte=since)
        returns = returns.filter(refund__succeeded_at__gte=since)
    return (
        lines.values("shop_id", "supplier_id", day=TruncDate("fulfilment__shipped_at", tzinfo=tz))
        .annotate(
            drop_shipped=Coalesce(Sum("quantity", filter=Q(is_wholesale=False)), 0),
            wholesale_shipped=Coalesce(Sum("quantity", filter=Q(is_wholesale=True)), 0),
        )
        .order_by(),
        sales.values("shop_id", "supplier_id", day=TruncDate("sold_at", tzinfo=tz))
        .annotate(sold_offline=Sum("quantity"))
        .order_by(),
        returns.values("shop_id", "supplier_id", day=TruncDate("refund__succeeded_at", tzinfo=tz))
        .annotate(returned=Sum("quantity"))
        .order_by(),
    )


def retail_reach(*, shop_id: int | None = None, supplier_id: int | None = None) -> dict:
    """Retail reach, platform-wide or for one shop or one supplier:
    `{units_left_suppliers, units_reached_consumers, units_held, rate}` where
    rate = units that reached a consumer ÷ units that left suppliers (1.0 when
    none left). A unit leaves its supplier when its part of an order is shipped;
    a drop-shipped unit reaches its consumer then, a wholesale unit when the
    shop records it sold offline; units returned to the supplier count as never
    having left. Three queries, whatever the history."""
    lines, sales, returns = reach_sources()
    if shop_id is not None:
        lines, sales, returns = (
            lines.filter(shop_id=shop_id),
            sales.filter(shop_id=shop_id),
            returns.filter(shop_id=shop_id),
        )
    if supplier_id is not None:
        lines, sales, returns = (
            lines.filter(supplier_id=supplier_id),
            sales.filter(supplier_id=supplier_id),
            returns.filter(supplier_id=supplier_id),
        )
    shipped = lines.aggregate(
        drop=Sum("quantity", filter=Q(is_wholesale=False)),
        wholesale=Sum("quantity", filter=Q(is_wholesale=True)),
    )
    reach = rules.Reach(
        drop_shipped=shipped["drop"] or 0,
        wholesale_shipped=shipped["wholesale"] or 0,
        sold_offline=sales.aggregate(total=Sum("quantity"))["total"] or 0,
        returned=returns.aggregate(total=Sum("quantity"))["total"] or 0,
    )
    return reach_dict(reach)


def reach_dict(reach: rules.Reach) -> dict:
    return {
        "units_left_suppliers": reach.units_left_suppliers,
        "units_reached_consumers": reach.units_reached_consumers,
        "units_held": reach.units_held,
        "rate": reach.rate,
    }


def retail_reach_by(party: str, *, limit: int = 20) -> list[dict]:
    """Retail reach per shop or per supplier (`party` "shop" or "supplier"), for
    the parties that bought or sold wholesale, lowest reach first: `[{id,
    units_left_suppliers, units_reached_consumers, units_held, rate}]`. Three
    queries, whatever the number of parties."""
    if party not in ("shop", "supplier"):
        raise ValueError(f"retail reach is per shop or per supplier, not {party!r}")
    key = f"{party}_id"
    wholesale_parties = OrderLine.objects.filter(is_wholesale=True).values(key)
    counts: dict[int, dict[str, int]] = defaultdict(
        lambda: {"drop": 0, "wholesale": 0, "sold": 0, "returned": 0}
    )
    for row in (
        OrderLine.objects.filter(
            fulfilment__status=Fulfilment.Status.SHIPPED, **{f"{key}__in": wholesale_parties}
        )
        .values(key)
        .annotate(
            drop=Sum("quantity", filter=Q(is_wholesale=False)),
            wholesale=Sum("quantity", filter=Q(is_wholesale=True)),
        )
        .order_by()
    ):
        counts[row[key]].update(drop=row["drop"] or 0, wholesale=row["wholesale"] or 0)
    for row in OfflineSale.objects.values(key).annotate(total=Sum("quantity")).order_by():
        counts[row[key]]["sold"] = row["total"] or 0
    for row in (
        WholesaleReturn.objects.filter(refund__status=Refund.Status.SUCCEEDED)
        .values(key)
        .annotate(total=Sum("quantity"))
        .order_by()
    ):
        counts[row[key]]["returned"] = row["total"] or 0
    rows = []
    for party_id, values in counts.items():
        reach = rules.Reach(
            drop_shipped=values["drop"],
            wholesale_shipped=values["wholesale"],
            sold_offline=values["sold"],
            returned=values["returned"],
        )
        if reach.wholesale_shipped == 0:
            continue
        rows.append(
            {
                "id": party_id,
                "units_left_suppliers": reach.units_left_suppliers,
                "units_reached_consumers": reach.units_reached_consumers,
                "units_held": reach.units_held,
                "rate": reach.rate,
            }
        )
    rows.sort(key=lambda row: (row["rate"], -row["units_held"], row["id"]))
    return rows[:limit]
