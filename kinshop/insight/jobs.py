"""The insight jobs: roll raw facts (orders, clicks, the ledger's commission,
insight's own events) up per day, and delete events past their retention.

The rollup is set-based SQL (INSERT ... SELECT), so it runs the same on a few
rows or on millions. Each run recomputes every day from a start day onwards:
the last `KINSHOP_INSIGHT_RECOMPUTE_DAYS` days, every day since the previous run
(so a late run misses nothing), and the paid day of every order refunded since
the previous run (a refund lowers the GMV of the day the order was paid).
Recomputing is delete-then-insert inside the job's transaction: running twice
gives the same rows.

Wholesale orders (a shopkeeper buying stock from a supplier) are not consumer
sales: they count in no shop's orders, buyers, GMV, visitors or cohorts, nor in
a supplier's GMV (SupplierDay is what consumers bought of its goods through the
shops). What wholesale moves is counted by retail reach instead: ReachDay rolls
up, per shop, supplier and day, the units `wholesale.queries.reach_days`
defines (shipped, sold offline, returned), so insight and wholesale share one
definition of retail reach.

Self-purchases (the buyer bought through their own or a linked identity's share
link, or is the shop's keeper) are rolled up per shop and day into
ShopDay.self_orders from `ledger.queries.self_purchase_days`, the definition of
the compliance report; a link's orders and GMV in LinkDay leave out the lines
whose commission was refused, which the link did not earn on."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from kinshop.insight import rules
from kinshop.insight.models import (
    BuyerDay,
    CohortCell,
    Event,
    LinkDay,
    PlatformSnapshot,
    PlatformVisitorDay,
    ReachDay,
    RollupState,
    ShopDay,
    SupplierDay,
    TrafficDay,
    VisitorDay,
)
from kinshop.ledger.models import Account, JournalEntry, Posting
from kinshop.ledger.queries import self_purchase_days
from kinshop.orders.models import Order, OrderLine, Refund
from kinshop.sharing.models import Click
from kinshop.shops.models import Shop
from kinshop.wholesale.queries import reach_days

DELETE_BATCH = 10_000


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _day(column: str) -> tuple[str, list[str]]:
    """SQL for the local calendar day of a timestamp column, and its parameters."""
    tz = settings.TIME_ZONE
    if connection.vendor == "postgresql":
        # The zone is written into the SQL, not bound: with the parameters bound
        # by the server, a GROUP BY on this expression would not match the same
        # expression in the SELECT list ($1 and $2 could differ). It is a setting
        # (a zone name), checked here all the same.
        if not re.fullmatch(r"[A-Za-z0-9_/+\-]+", tz):
            raise ImproperlyConfigured(f"TIME_ZONE {tz!r} is not a time zone name.")
        return f"(({column}) AT TIME ZONE '{tz}')::date", []
    return f"django_datetime_cast_date({column}, %s, %s)", [tz, "UTC"]


def _month(column: str) -> str:
    """SQL for the first day of the month of a date column."""
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def start_day(now: dt.datetime, rolled_at: dt.datetime | None) -> dt.date | None:
    """The first day to recompute, or None for everything (the first run):
    the recent days, every day since the previous run, and the paid day of
    every order refunded since."""
    if rolled_at is None:
        return None
    today = timezone.localdate(now)
    start = min(
        today - dt.timedelta(days=settings.KINSHOP_INSIGHT_RECOMPUTE_DAYS - 1),
        timezone.localdate(rolled_at),
    )
    refunded_paid = (
        Order.objects.filter(
            refunds__status=Refund.Status.SUCCEEDED,
            refunds__succeeded_at__gte=rolled_at,
            paid_at__isnull=False,
        )
        .order_by("paid_at")
        .values_list("paid_at", flat=True)
        .first()
    )
    if refunded_paid is not None:
        start = min(start, timezone.localdate(refunded_paid))
    return start


def roll_up(now: dt.datetime) -> int:
    """Bring every daily rollup up to date as of `now`; returns how many rows
    were written. Runs once per `run-jobs`, after the jobs that change orders."""
    state = RollupState.objects.select_for_update().filter(pk=1).first()
    previous = None
    if state is not None:
        previous = min(state.rolled_at, state.ran_at or state.rolled_at)
    start = start_day(now, previous)
    earliest = dt.date(1970, 1, 2)
    first = start or earliest
    # Events older than the retention are gone; days before it keep their traffic.
    kept_from = timezone.localdate(now) - dt.timedelta(
        days=settings.KINSHOP_INSIGHT_EVENT_RETENTION_DAYS
    )
    first_traffic = max(first, kept_from) if start else first
    since, since_traffic = _local_midnight(first), _local_midnight(first_traffic)
    written = 0
    with connection.cursor() as cursor:
        for sql, params in _statements(first, since, first_traffic, since_traffic):
            cursor.execute(sql, params)
            written += max(cursor.rowcount, 0) if sql.lstrip().startswith("INSERT") else 0
    written += _anonymous_click_visitors(first_traffic, since_traffic)
    RollupState.objects.update_or_create(
        pk=1, defaults={"rolled_at": now, "ran_at": timezone.now()}
    )
    _snapshot_platform(timezone.localdate(now))
    return written


SNAPSHOT_DAYS = (7, 30, 90)


def _snapshot_platform(today: dt.date) -> None:
    """Count the platform's usual periods once per run (see PlatformSnapshot)."""
    from dataclasses import asdict

    from kinshop.insight import queries

    PlatformSnapshot.objects.all().delete()
    snapshots = []
    for days in SNAPSHOT_DAYS:
        period = rules.Period(today - dt.timedelta(days=days - 1), today)
        now, before = queries.count_numbers(period, None)
        snapshots.append(
            PlatformSnapshot(
                start=period.start,
                end=period.end,
                numbers={"now": asdict(now), "before": asdict(before)},
            )
        )
    PlatformSnapshot.objects.bulk_create(snapshots)


def _statements(first: dt.date, since: dt.datetime, first_traffic: dt.date, since_traffic):
    # Raw SQL gets each moment as the database keeps it (SQLite: UTC text, which
    # compares as text; an aware value would keep its +08:00 and compare wrongly).
    at, at_traffic = (connection.ops.adapt_datetimefield_value(v) for v in (since, since_traffic))
    order, line, click = _table(Order), _table(OrderLine), _table(Click)
    shop = _table(Shop)
    posting, account, entry = _table(Posting), _table(Account), _table(JournalEntry)
    created_day, created_params = _day("o.created_at")
    paid_day, paid_params = _day("o.paid_at")
    click_day, click_params = _day("c.at")

    yield f"DELETE FROM {_table(ShopDay)} WHERE day >= %s", [first]
    own_sql, own_params = self_purchase_days(since).query.sql_with_params()
    yield (
        f"""INSERT INTO {_table(ShopDay)} (shop_id, day, placed, orders, gmv, units, self_orders)
        SELECT shop_id, day, SUM(placed), SUM(paid), SUM(gmv), SUM(units), SUM(own) FROM (
          SELECT o.shop_id AS shop_id, {created_day} AS day, 1 AS placed, 0 AS paid,
                 0 AS gmv, 0 AS units, 0 AS own
          FROM {order} o WHERE o.created_at >= %s AND NOT o.is_wholesale
          UNION ALL
          SELECT o.shop_id, {paid_day}, 0, 1, o.total - o.refunded_amount,
                 (SELECT COALESCE(SUM(l.quantity), 0) FROM {line} l WHERE l.order_id = o.id), 0
          FROM {order} o WHERE o.paid_at >= %s AND NOT o.is_wholesale
          UNION ALL
          SELECT r.shop_id, r.day, 0, 0, 0, 0, r.self_orders FROM ({own_sql}) r
        ) facts GROUP BY shop_id, day""",
        [*created_params, at, *paid_params, at, *own_params],
    )

    yield f"DELETE FROM {_table(BuyerDay)} WHERE day >= %s", [first]
    yield (
        f"""INSERT INTO {_table(BuyerDay)} (shop_id, shop_owner_id, day, buyer_id, orders, gmv)
        SELECT o.shop_id, s.owner_id, {paid_day}, o.buyer_id, COUNT(*),
               SUM(o.total - o.refunded_amount)
        FROM {order} o JOIN {shop} s ON s.id = o.shop_id
        WHERE o.paid_at >= %s AND NOT o.is_wholesale
        GROUP BY o.shop_id, s.owner_id, {paid_day}, o.buyer_id""",
        [*paid_params, at, *paid_params],
    )

    yield f"DELETE FROM {_table(SupplierDay)} WHERE day >= %s", [first]
    yield (
        f"""INSERT INTO {_table(SupplierDay)} (supplier_id, day, orders, gmv, units)
        SELECT l.supplier_id, {paid_day}, COUNT(DISTINCT o.id),
               SUM(l.line_total - l.refunded_amount), SUM(l.quantity)
        FROM {line} l JOIN {order} o ON o.id = l.order_id
        WHERE o.paid_at >= %s AND NOT o.is_wholesale
        GROUP BY l.supplier_id, {paid_day}""",
        [*paid_params, at, *paid_params],
    )

    yield f"DELETE FROM {_table(ReachDay)} WHERE day >= %s", [first]
    sources = zip(
        reach_days(since),
        (("drop_shipped", "wholesale_shipped"), ("sold_offline",), ("returned",)),
        strict=True,
    )
    for facts, counted in sources:
        columns = ("shop_id", "supplier_id", "day", *counted)
        sql, params = facts.query.sql_with_params()
        yield (
            f"""INSERT INTO {_table(ReachDay)} ({", ".join(columns)})
            SELECT {", ".join(f"r.{column}" for column in columns)} FROM ({sql}) r""",
            list(params),
        )

    # The cohorts of every shop that sold on a recomputed day, from its buyers' days.
    buyer_day, cells = _table(BuyerDay), _table(CohortCell)
    touched = f"SELECT DISTINCT shop_id FROM {buyer_day} WHERE day >= %s"
    yield f"DELETE FROM {cells} WHERE shop_id IN ({touched})", [first]
    yield (
        f"""INSERT INTO {cells} (shop_id, cohort, month, buyers)
        SELECT active.shop_id, first.cohort, active.month, COUNT(*) FROM (
          SELECT DISTINCT shop_id, buyer_id, {_month("day")} AS month FROM {buyer_day}
          WHERE shop_id IN ({touched})
        ) active JOIN (
          SELECT shop_id, buyer_id, MIN({_month("day")}) AS cohort FROM {buyer_day}
          WHERE shop_id IN ({touched}) GROUP BY shop_id, buyer_id
        ) first ON first.shop_id = active.shop_id AND first.buyer_id = active.buyer_id
        GROUP BY active.shop_id, first.cohort, active.month""",
        [first, first],
    )

    yield f"DELETE FROM {_table(LinkDay)} WHERE day >= %s", [first]
    commission = f"""(SELECT COALESCE(-SUM(p.amount), 0) FROM {posting} p
        JOIN {account} a ON a.id = p.account_id JOIN {entry} e ON e.id = p.entry_id
        WHERE p.line_id = l.id AND a.owner_kind = 'sharer'
          AND e.kind IN ('capture', 'refund'))"""
    yield (
        f"""INSERT INTO {_table(LinkDay)}
          (link_id, shop_id, sharer_id, channel, day, clicks, orders, gmv, commission)
        SELECT link_id, shop_id, sharer_id, channel, day,
               SUM(clicks), SUM(orders), SUM(gmv), SUM(commission) FROM (
          SELECT c.link_id AS link_id, c.shop_id AS shop_id, c.sharer_id AS sharer_id,
                 c.channel AS channel, {click_day} AS day, 1 AS clicks, 0 AS orders,
                 0 AS gmv, 0 AS commission
          FROM {click} c WHERE c.at >= %s
          UNION ALL
          SELECT link_id, shop_id, sharer_id, channel, day, 0, COUNT(DISTINCT order_id),
                 SUM(net), SUM(commission) FROM (
            SELECT c.link_id AS link_id, c.shop_id AS shop_id, c.sharer_id AS sharer_id,
                   c.channel AS channel, {paid_day} AS day, o.id AS order_id,
                   l.line_total - l.refunded_amount AS net, {commission} AS commission
            FROM {line} l JOIN {order} o ON o.id = l.order_id
            JOIN {click} c ON c.id = l.attribution_click_id
            WHERE o.paid_at >= %s AND NOT o.is_wholesale AND l.commission_refusal = ''
          ) attributed GROUP BY link_id, shop_id, sharer_id, channel, day
        ) facts GROUP BY link_id, shop_id, sharer_id, channel, day""",
        [*click_params, at, *paid_params, at],
    )

    event = _table(Event)
    yield f"DELETE FROM {_table(TrafficDay)} WHERE day >= %s", [first_traffic]
    yield (
        f"""INSERT INTO {_table(TrafficDay)} (shop_id, day, views, carts)
        SELECT shop_id, day, SUM(CASE WHEN kind = 'view' THEN 1 ELSE 0 END),
               SUM(CASE WHEN kind = 'cart' THEN 1 ELSE 0 END)
        FROM {event} WHERE day >= %s GROUP BY shop_id, day""",
        [first_traffic],
    )

    # A buyer is a visitor of the day they ordered and of the day they paid.
    yield f"DELETE FROM {_table(VisitorDay)} WHERE day >= %s", [first_traffic]
    yield (
        f"""INSERT INTO {_table(VisitorDay)} (shop_id, day, visitor)
        SELECT shop_id, day, visitor FROM {event} WHERE day >= %s
        UNION
        SELECT c.shop_id, {click_day}, c.viewer_id FROM {click} c
          WHERE c.at >= %s AND c.viewer_id IS NOT NULL
        UNION
        SELECT o.shop_id, {created_day}, o.buyer_id FROM {order} o
          WHERE o.created_at >= %s AND NOT o.is_wholesale
        UNION
        SELECT o.shop_id, {paid_day}, o.buyer_id FROM {order} o
          WHERE o.paid_at >= %s AND NOT o.is_wholesale
        ORDER BY 1, 2, 3""",
        [
            first_traffic,
            *click_params,
            at_traffic,
            *created_params,
            at_traffic,
            *paid_params,
            at_traffic,
        ],
    )


def _anonymous_click_visitors(first_traffic: dt.date, since_traffic: dt.datetime) -> int:
    """Clicks by someone not signed in count their browser as the visitor; its key
    is hashed here (SQL has no portable hash), then the platform's visitors are
    the distinct visitors of every shop."""
    rows = (
        Click.objects.filter(at__gte=since_traffic, viewer__isnull=True)
        .exclude(visitor_key="")
        .values_list("shop_id", "at", "visitor_key")
    )
    found: set[tuple[int, dt.date, int]] = set()
    for shop_id, at, key in rows.iterator():
        visitor = rules.visitor_id(user_id=None, device_id="k:" + key)
        if visitor is not None:
            found.add((shop_id, timezone.localdate(at), visitor))
    VisitorDay.objects.bulk_create(
        [VisitorDay(shop_id=shop_id, day=day, visitor=visitor) for shop_id, day, visitor in found],
        ignore_conflicts=True,
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table(PlatformVisitorDay)} WHERE day >= %s", [first_traffic])
        cursor.execute(
            f"""INSERT INTO {_table(PlatformVisitorDay)} (day, visitor)
            SELECT DISTINCT day, visitor FROM {_table(VisitorDay)} WHERE day >= %s
            ORDER BY day, visitor""",
            [first_traffic],
        )
        return len(found) + max(cursor.rowcount, 0)


def delete_old_events(now: dt.datetime) -> int:
    """Delete a batch of events older than the retention; the run repeats it
    until none is left."""
    cutoff = timezone.localdate(now) - dt.timedelta(
        days=settings.KINSHOP_INSIGHT_EVENT_RETENTION_DAYS
    )
    ids = list(Event.objects.filter(day__lt=cutoff).values_list("pk", flat=True)[:DELETE_BATCH])
    if not ids:
        return 0
    Event.objects.filter(pk__in=ids).delete()
    return len(ids)
