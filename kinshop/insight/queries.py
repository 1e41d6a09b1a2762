"""Insight's reads: every number comes from the daily rollups, in a fixed number
of queries whatever the size of the data (never a scan of raw orders or events
per request). A period and the one before it are read in the same queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum

from kinshop.core import clock
from kinshop.core.errors import Forbidden, NotFound
from kinshop.insight import rules
from kinshop.insight.models import (
    BuyerDay,
    CohortCell,
    LinkDay,
    PlatformSnapshot,
    PlatformVisitorDay,
    ReachDay,
    ShopDay,
    SupplierDay,
    TrafficDay,
    VisitorDay,
)
from kinshop.sharing.models import Click, ShareLink
from kinshop.shops.models import Shop
from kinshop.wholesale import rules as wholesale_rules

CHANNELS: tuple[str, ...] = tuple(Click.Channel.values)


def today():
    from django.utils import timezone

    return timezone.localdate(clock.now())


def shop_for_insight(user, handle: str) -> Shop:
    """The shop by handle, for its keeper or an operator; 404 when there is no
    such shop, 403 for anyone else."""
    shop = Shop.objects.filter(handle=handle).first()
    if shop is None:
        raise NotFound("No shop with that handle.", code="shop_not_found")
    if not (user.is_staff or shop.owner_id == user.pk):
        raise Forbidden("Only the shop's keeper or an operator sees its insight.", code="forbidden")
    return shop


def supplier_for_insight(user, supplier_id: int) -> int:
    """The supplier, for its staff or an operator; 404 when there is none, 403
    for anyone else."""
    from kinshop.catalog.models import Supplier
    from kinshop.catalog.queries import is_staff_of

    if not Supplier.objects.filter(pk=supplier_id).exists():
        raise NotFound("No such supplier.", code="supplier_not_found")
    if not (user.is_staff or is_staff_of(user, supplier_id)):
        raise Forbidden(
            "Only the supplier's staff or an operator sees its insight.", code="forbidden"
        )
    return supplier_id


def require_operator(user) -> None:
    if not user.is_staff:
        raise Forbidden("Only an operator sees the platform's insight.", code="operator_only")


# -- the wrappers other branches will point elsewhere --


REACH_FIELDS = ("drop_shipped", "wholesale_shipped", "sold_offline", "returned")


def _reach_sums(scope: Q, period: rules.Period) -> dict[str, dict[str, int]]:
    """The units of retail reach up to the end of the period and of the one
    before it, summed from ReachDay (one query): `{"now": {...}, "before": {...}}`
    with the fields of `wholesale.rules.Reach`."""
    before = Q(day__lte=period.previous.end)
    sums = ReachDay.objects.filter(scope, day__lte=period.end).aggregate(
        **{f"{name}_now": Sum(name) for name in REACH_FIELDS},
        **{f"{name}_before": Sum(name, filter=before) for name in REACH_FIELDS},
    )
    return {
        when: {name: sums[f"{name}_{when}"] or 0 for name in REACH_FIELDS}
        for when in ("now", "before")
    }


def _retail_reach_rate(units: dict[str, int]) -> float:
    """Units that reached a consumer ÷ units that left suppliers, by the rule of
    `wholesale.queries.retail_reach` (and so of `compliance_report`), over
    everything that happened up to the end of the period: reach is a state (what
    became of every unit that ever left a supplier), not a flow of the period.
    For a period ending today it equals `wholesale.queries.retail_reach` as of
    the last rollup."""
    return wholesale_rules.Reach(**units).rate


def _self_purchase_share(*, self_orders: int, orders: int) -> float:
    """The share of the period's paid consumer orders that are self-purchases:
    bought through the buyer's own share link, through a linked identity's, or
    by the shop's keeper in their own shop. The orders are counted by the rollup
    from `ledger.queries.self_purchase_days`, so for a shop (or the platform)
    and a period of whole days this equals `ledger.queries.self_purchases`
    (and `compliance_report`) over the same days, as of the last rollup."""
    return self_orders / orders if orders else 0.0


# -- the numbers --


@dataclass(frozen=True)
class Numbers:
    """One period's raw counts for a shop or the platform."""

    gmv: int = 0
    visitors: int = 0
    buyers: int = 0
    orders: int = 0
    placed: int = 0
    views: int = 0
    carts: int = 0
    units: int = 0
    repeat_buyers: int = 0
    self_orders: int = 0
    # retail reach: the units up to the period's end (see _retail_reach_rate)
    drop_shipped: int = 0
    wholesale_shipped: int = 0
    sold_offline: int = 0
    returned: int = 0

    @property
    def reach(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in REACH_FIELDS}

    @property
    def factors(self) -> rules.Factors:
        return rules.factors(
            gmv=self.gmv, visitors=self.visitors, buyers=self.buyers, orders=self.orders
        )


def _in(period: rules.Period, prefix: str = "") -> Q:
    return Q(**{f"{prefix}day__gte": period.start, f"{prefix}day__lte": period.end})


def _both(period: rules.Period) -> Q:
    return Q(day__gte=period.previous.start, day__lte=period.end)


def _numbers(period: rules.Period, shop_id: int | None) -> tuple[Numbers, Numbers]:
    """This period's and the previous one's counts: for the platform, from the
    job's snapshot when it has this period (one query), else counted."""
    if shop_id is None:
        snapshot = (
            PlatformSnapshot.objects.filter(start=period.start, end=period.end)
            .values_list("numbers", flat=True)
            .first()
        )
        if snapshot is not None:
            return Numbers(**snapshot["now"]), Numbers(**snapshot["before"])
    return count_numbers(period, shop_id)


def count_numbers(period: rules.Period, shop_id: int | None) -> tuple[Numbers, Numbers]:
    """This period's and the previous one's counts from the rollups, in five
    queries (a shop's, or with `shop_id=None` the platform's)."""
    now_q, before_q = _in(period), _in(period.previous)
    scope = Q(shop_id=shop_id) if shop_id is not None else Q()
    sales = ShopDay.objects.filter(scope, _both(period)).aggregate(
        **{
            f"{name}_{when}": Sum(field, filter=q)
            for when, q in (("now", now_q), ("before", before_q))
            for name, field in (
                ("gmv", "gmv"),
                ("orders", "orders"),
                ("placed", "placed"),
                ("units", "units"),
                ("self", "self_orders"),
            )
        }
    )
    traffic = TrafficDay.objects.filter(scope, _both(period)).aggregate(
        views_now=Sum("views", filter=now_q),
        carts_now=Sum("carts", filter=now_q),
        views_before=Sum("views", filter=before_q),
        carts_before=Sum("carts", filter=before_q),
    )
    visitor_rows = (
        VisitorDay.objects.filter(scope, _both(period))
        if shop_id is not None
        else PlatformVisitorDay.objects.filter(_both(period))
    )
    visitors = visitor_rows.aggregate(
        now=Count("visitor", distinct=True, filter=now_q),
        before=Count("visitor", distinct=True, filter=before_q),
    )
    per_buyer = (
        BuyerDay.objects.filter(scope, _both(period))
        .values("buyer_id")
        .annotate(
            orders_now=Sum("orders", filter=now_q),
            orders_before=Sum("orders", filter=before_q),
        )
    )
    buyers = per_buyer.aggregate(
        buyers_now=Count("buyer_id", filter=Q(orders_now__gt=0)),
        buyers_before=Count("buyer_id", filter=Q(orders_before__gt=0)),
        repeat_now=Count("buyer_id", filter=Q(orders_now__gt=1)),
        repeat_before=Count("buyer_id", filter=Q(orders_before__gt=1)),
    )
    reach = _reach_sums(scope, period)

    def build(when: str) -> Numbers:
        return Numbers(
            gmv=sales[f"gmv_{when}"] or 0,
            visitors=visitors[when] or 0,
            buyers=buyers[f"buyers_{when}"] or 0,
            orders=sales[f"orders_{when}"] or 0,
            placed=sales[f"placed_{when}"] or 0,
            views=traffic[f"views_{when}"] or 0,
            carts=traffic[f"carts_{when}"] or 0,
            units=sales[f"units_{when}"] or 0,
            repeat_buyers=buyers[f"repeat_{when}"] or 0,
            self_orders=sales[f"self_{when}"] or 0,
            **reach[when],
        )

    return build("now"), build("before")


def _channels(period: rules.Period, **scope) -> list[dict]:
    """Clicks → orders → GMV per channel, every channel listed (zeros included)."""
    rows: dict[str, dict[str, Any]] = {
        row["channel"]: dict(row)
        for row in LinkDay.objects.filter(_in(period), **scope)
        .values("channel")
        .annotate(clicks=Sum("clicks"), orders=Sum("orders"), gmv=Sum("gmv"))
    }
    channels = list(CHANNELS) + sorted(set(rows) - set(CHANNELS))
    return [
        {
            "channel": channel,
            "clicks": rows.get(channel, {}).get("clicks") or 0,
            "orders": rows.get(channel, {}).get("orders") or 0,
            "gmv": rows.get(channel, {}).get("gmv") or 0,
        }
        for channel in channels
    ]


def _summary(numbers: Numbers) -> dict:
    f = numbers.factors
    return {
        **f.as_dict(),
        "exact": f.exact,
        "funnel": {
            "views": numbers.views,
            "carts": numbers.carts,
            "orders": numbers.placed,
            "paid": numbers.orders,
        },
        "repeat_buyer_rate": numbers.repeat_buyers / numbers.buyers if numbers.buyers else 0.0,
        "retail_reach_rate": _retail_reach_rate(numbers.reach),
        "self_purchase_share": _self_purchase_share(
            self_orders=numbers.self_orders, orders=numbers.orders
        ),
    }


FACTOR_NAMES = ("gmv", "visitors", "conversion", "orders_per_buyer", "aov", "buyers", "orders")


def _changes(current: dict, previous: dict) -> dict:
    return {name: rules.change(current[name], previous[name]) for name in FACTOR_NAMES}


def shop_insight(shop: Shop, period: rules.Period) -> dict:
    """A shop's GMV and its factors, funnel, channels and rates for the period,
    with the previous period and the change against it. Six queries."""
    now, before = _numbers(period, shop.pk)
    current, previous = _summary(now), _summary(before)
    return {
        "shop": shop.handle,
        "from": period.start,
        "to": period.end,
        "currency": _currency(),
        **current,
        "channels": _channels(period, shop_id=shop.pk),
        "previous": {"from": period.previous.start, "to": period.previous.end, **previous},
        "change": _changes(current, previous),
    }


def supplier_insight(supplier_id: int, period: rules.Period) -> dict:
    """What consumers bought of a supplier's goods through every shop in the
    period against the previous one: its lines' value net of refunds, the paid
    orders holding them, units and the value per order (wholesale orders are not
    consumer sales and count in none of these); and its retail reach up to the
    end of each period, wholesale included (see _retail_reach_rate). Two
    queries."""
    now_q, before_q = _in(period), _in(period.previous)
    sums = SupplierDay.objects.filter(_both(period), supplier_id=supplier_id).aggregate(
        gmv_now=Sum("gmv", filter=now_q),
        orders_now=Sum("orders", filter=now_q),
        units_now=Sum("units", filter=now_q),
        gmv_before=Sum("gmv", filter=before_q),
        orders_before=Sum("orders", filter=before_q),
        units_before=Sum("units", filter=before_q),
    )
    reach = _reach_sums(Q(supplier_id=supplier_id), period)

    def build(when: str) -> dict:
        gmv, orders = sums[f"gmv_{when}"] or 0, sums[f"orders_{when}"] or 0
        units = sums[f"units_{when}"] or 0
        return {
            "gmv": gmv,
            "orders": orders,
            "units": units,
            "aov": gmv / orders if orders else 0.0,
            "retail_reach_rate": _retail_reach_rate(reach[when]),
        }

    current, previous = build("now"), build("before")
    return {
        "supplier_id": supplier_id,
        "from": period.start,
        "to": period.end,
        "currency": _currency(),
        **current,
        "previous": {"from": period.previous.start, "to": period.previous.end, **previous},
        "change": {
            key: rules.change(current[key], previous[key])
            for key in ("gmv", "orders", "units", "aov")
        },
    }


def _currency() -> str:
    from django.conf import settings

    return settings.KINSHOP_CURRENCY


def sharer_incomes(period: rules.Period) -> list[int]:
    """Each sharer's net commission in the period, for every sharer whose links
    were clicked or earned in it (a clicked link that earned nothing is a 0)."""
    return [
        row["income"] or 0
        for row in LinkDay.objects.filter(_in(period))
        .values("sharer_id")
        .annotate(income=Sum("commission"))
        .order_by()
    ]


def platform_insight(period: rules.Period) -> dict:
    """The platform's factors, funnel and channels, plus how sharer income is
    spread (Gini, deciles, the Lorenz curve) and the compliance numbers. Three
    queries for a period the rollup job snapshots (the last 7, 30 or 90 days),
    eight for any other."""
    now, before = _numbers(period, None)
    current, previous = _summary(now), _summary(before)
    incomes = sharer_incomes(period)
    return {
        "from": period.start,
        "to": period.end,
        "currency": _currency(),
        **current,
        "channels": _channels(period),
        "sharers": len(incomes),
        "sharer_income": sum(max(0, value) for value in incomes),
        "sharer_income_gini": rules.gini(incomes),
        "income_deciles": rules.income_deciles(incomes),
        "lorenz": [list(point) for point in rules.lorenz(incomes)],
        "commission_levels": 1,
        "previous": {"from": period.previous.start, "to": period.previous.end, **previous},
        "change": _changes(current, previous),
    }


def sharer_insight(user, period: rules.Period) -> dict:
    """The caller's links: clicks → orders → GMV → commission per link and per
    channel, and in total. Two queries."""
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in LinkDay.objects.filter(_in(period), sharer_id=user.pk)
        .values("link_id", "channel")
        .annotate(
            clicks=Sum("clicks"), orders=Sum("orders"), gmv=Sum("gmv"), commission=Sum("commission")
        )
        .order_by("link_id", "channel")
    ]
    links = (
        {
            link.pk: link
            for link in ShareLink.objects.filter(
                pk__in={row["link_id"] for row in rows}
            ).select_related("shop", "product")
        }
        if rows
        else {}
    )
    keys = ("clicks", "orders", "gmv", "commission")
    per_link: dict[int, dict] = {}
    per_channel = {channel: dict.fromkeys(keys, 0) for channel in CHANNELS}
    detail = []
    for row in rows:
        link = links.get(row["link_id"])
        if link is None:
            continue
        item = per_link.setdefault(
            link.pk,
            {
                "code": link.code,
                "shop": link.shop.handle,
                "product_id": link.product_id,
                "title": link.product.title if link.product else link.shop.name,
                **dict.fromkeys(keys, 0),
            },
        )
        channel = per_channel.setdefault(row["channel"], dict.fromkeys(keys, 0))
        for key in keys:
            item[key] += row[key] or 0
            channel[key] += row[key] or 0
        detail.append(
            {"code": link.code, "channel": row["channel"], **{k: row[k] or 0 for k in keys}}
        )
    totals = {key: sum(item[key] for item in per_link.values()) for key in keys}
    return {
        "from": period.start,
        "to": period.end,
        "currency": _currency(),
        **totals,
        "links": list(per_link.values()),
        "channels": [{"channel": name, **values} for name, values in per_channel.items()],
        "rows": detail,
    }


def cohort_period(start: str | None, end: str | None) -> rules.Period:
    """Cohorts look at whole months: by default the twelve months up to this one."""
    import datetime as dt

    to = rules.period(None, end, today=today()).end if end else today()
    if start:
        first = rules.period(start, to.isoformat(), today=today()).start
    else:
        month = rules.month_index(to) - 11
        first = dt.date(month // 12, month % 12 + 1, 1)
    return rules.Period(first.replace(day=1), to)


def cohorts(shop: Shop, period: rules.Period) -> dict:
    """Monthly first-purchase cohorts of the shop's buyers whose first purchase
    falls in the period, and the share of each that bought again in each month
    since, up to the period's last month. One query, over the shop's cohort
    cells (a few hundred rows at most), never its buyers."""
    cells = CohortCell.objects.filter(
        shop_id=shop.pk,
        cohort__gte=period.start.replace(day=1),
        cohort__lte=period.end,
        month__lte=period.end,
    ).values_list("cohort", "month", "buyers")
    rows = rules.cohort_rows(
        (
            (rules.month_index(cohort), rules.month_index(month), buyers)
            for cohort, month, buyers in cells
        ),
        last_month=rules.month_index(period.end),
    )
    return {"shop": shop.handle, "from": period.start, "to": period.end, "cohorts": rows}


def shop_by_handle(handle: str) -> Shop:
    shop = Shop.objects.filter(handle=handle).only("pk").first()
    if shop is None:
        raise NotFound("No shop with that handle.", code="shop_not_found")
    return shop
