"""Insight at scale: millions of orders and tens of millions of events built
with set-based SQL on PostgreSQL, rolled up by the real job, then the platform
and a shop's insight timed from the rollups, beside DuckDB running the
equivalent aggregate directly over the raw tables of the same database.

    python -m bench.insight build ORDERS EVENTS   # data, in the bench database
    python -m bench.insight rollup                # time kinshop.insight.jobs.roll_up
    python -m bench.insight time                  # time the insight queries (warm, best of 3)
    python -m bench.insight duckdb                # the raw-table reference, through DuckDB
    python -m bench.insight record                # write the insight section of RESULTS.md

The data: a year of history ending today. Buyers are a tenth of the orders,
shops a thousandth (at least 10), and shop sizes are skewed (a few big shops,
a long tail). Nine orders in ten are paid, one in 37 of those half refunded;
one in five paid orders came through a share link (its line carries the click
and the sharer's commission as a balanced capture entry in the ledger). Events
are product views (nine in ten) and cart adds by 3 million visitors, a fifth
of them signed in. Rows insight never reads (payments, history) are not made.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from bench.common import load, save, setup_django

DAYS = 365
PERIOD_DAYS = 30
RESULTS = Path(__file__).with_name("RESULTS.md")
START, END = "<!-- insight:start -->", "<!-- insight:end -->"


def _timed(cursor, label: str, sql: str, params=None, log: dict | None = None) -> float:
    started = time.perf_counter()
    cursor.execute(sql, params or {})
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s", flush=True)
    if log is not None:
        log[label] = round(seconds, 2)
    return seconds


def build(orders: int, events: int) -> None:
    setup_django()
    from django.db import connection, transaction

    from kinshop import testing

    with transaction.atomic():
        supplier, staff = testing.make_supplier(name="Insight Bench Farm")
        product = testing.make_product(staff=staff, title="Bench walnuts", commission_rate_bp=1000)
        sku = product.skus.get()
    buyers = max(100, orders // 10)
    shops = max(10, orders // 1000)
    sharers = shops * 10  # ten links per shop: link g shares shop (g - 1) mod shops
    visitors = 3_000_000 if events >= 10_000_000 else max(1000, events // 16)
    params = {
        "orders": orders,
        "events": events,
        "buyers": buyers,
        "shops": shops,
        "sharers": sharers,
        "visitors": visitors,
        "days": DAYS,
        "supplier": supplier.id,
        "product": product.id,
        "sku": sku.id,
    }
    steps: dict[str, float] = {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Bulk loading: the generated ids are consistent by construction, so the
        # foreign-key triggers are off for this session (as pg_restore does).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SELECT coalesce(max(id), 0) FROM accounts_user")
        (first_user,) = cursor.fetchone()
        params["u0"] = first_user
        _timed(
            cursor,
            "users",
            """INSERT INTO accounts_user (password, is_superuser, username, first_name,
                 last_name, email, is_staff, is_active, date_joined, phone, display_name)
               SELECT '!', false, 'insight-' || g, '', '', '', false, true, now(), '', ''
               FROM generate_series(1, %(buyers)s + %(sharers)s) g""",
            params,
            steps,
        )
        # shop k belongs to user u0 + k; buyers are users u0 + 1 .. u0 + buyers;
        # sharers the users after them.
        _timed(
            cursor,
            "shops",
            """INSERT INTO shops_shop (owner_id, handle, name, bio, avatar, is_active, created_at,
                 storefront_version, is_suspended)
               SELECT %(u0)s + g, 'insight-shop-' || g, 'Shop ' || g, '', '', true,
                      now() - interval '400 days', 0, false
               FROM generate_series(1, %(shops)s) g""",
            params,
            steps,
        )
        cursor.execute("SELECT min(id) FROM shops_shop WHERE handle LIKE 'insight-shop-%%'")
        (params["s0"],) = cursor.fetchone()
        params["s0"] -= 1
        _timed(
            cursor,
            "share links",
            """INSERT INTO sharing_sharelink (code, sharer_id, shop_id, product_id, target, created_at)
               SELECT 'ib' || g, %(u0)s + %(buyers)s + g, %(s0)s + 1 + ((g - 1) %% %(shops)s), NULL,
                      'shop', now() - interval '400 days'
               FROM generate_series(1, %(sharers)s) g""",
            params,
            steps,
        )
        cursor.execute("SELECT min(id) FROM sharing_sharelink WHERE code LIKE 'ib%%'")
        (params["l0"],) = cursor.fetchone()
        params["l0"] -= 1
        # Shop sizes are skewed: the shop of order g is drawn from a power law.
        _timed(
            cursor,
            "orders",
            """INSERT INTO orders_order (buyer_id, shop_id, status, currency, total,
                 refunded_amount, recipient_name, recipient_phone, region, address_detail,
                 share_code, payment_deadline, created_at, paid_at, shipped_at, completed_at,
                 is_wholesale, allotment_units, campaign, awaiting_group, deposit)
               SELECT %(u0)s + 1 + (g * 7919 %% %(buyers)s),
                      %(s0)s + 1 + least(%(shops)s - 1, floor(%(shops)s * power(random(), 3))::int),
                      CASE WHEN g %% 10 = 0 THEN 'cancelled' ELSE 'completed' END, 'CNY',
                      total, CASE WHEN g %% 37 = 0 AND g %% 10 <> 0 THEN total / 2 ELSE 0 END,
                      'Bench', '13800000000', 'Shanghai', '1 Road', '',
                      t + interval '30 minutes', t,
                      CASE WHEN g %% 10 = 0 THEN NULL ELSE t + interval '1 minute' END,
                      NULL, NULL, false, 0, '', false, 0
               FROM (SELECT g, 5000 + (g %% 50) * 100 AS total,
                            now() - make_interval(days => (g %% %(days)s)::int)
                                  - (g %% 86400) * interval '1 second' AS t
                     FROM generate_series(1, %(orders)s::bigint) g) AS source""",
            params,
            steps,
        )
        cursor.execute("SELECT min(id) FROM orders_order WHERE recipient_name = 'Bench'")
        (params["o0"],) = cursor.fetchone()
        # One paid order in five came through a share link: a click just before
        # it, a fulfilment and a line attributed to that click.
        _timed(
            cursor,
            "clicks",
            """INSERT INTO sharing_click (link_id, shop_id, sharer_id, viewer_id, visitor_key,
                 channel, at, window_index)
               SELECT l.id, l.shop_id, l.sharer_id, o.buyer_id, '',
                      (ARRAY['link', 'qr', 'live', 'offline'])[1 + o.id %% 4],
                      o.created_at - interval '5 minutes', 0
               FROM orders_order o
               JOIN sharing_sharelink l
                 ON l.id = %(l0)s + 1 + (o.shop_id - %(s0)s - 1) + %(shops)s * (o.id %% 10)
               WHERE o.id >= %(o0)s AND o.paid_at IS NOT NULL AND o.id %% 5 = 0""",
            params,
            steps,
        )
        _timed(
            cursor,
            "fulfilments",
            """INSERT INTO orders_fulfilment (order_id, supplier_id, status, carrier, tracking_no,
                 shipped_at)
               SELECT o.id, %(supplier)s, 'shipped', '', '', o.paid_at + interval '1 day'
               FROM orders_order o
               WHERE o.id >= %(o0)s AND o.paid_at IS NOT NULL AND o.id %% 5 = 0""",
            params,
            steps,
        )
        _timed(
            cursor,
            "lines",
            """INSERT INTO orders_orderline (order_id, fulfilment_id, shop_id, supplier_id,
                 product_id, sku_id, title, sku_name, quantity, unit_price, line_total,
                 unit_supply_price, commission_rate_bp, platform_fee_bp,
                 commission_beneficiary_id, attribution_click_id, attribution_policy,
                 attribution_note, refunded_amount, is_wholesale, commission_refusal)
               SELECT o.id, f.id, o.shop_id, %(supplier)s, %(product)s, %(sku)s, 'Bench walnuts',
                      '500 g', 1, o.total, o.total, 3000, 1000, 0, c.sharer_id, c.id,
                      'last_click', '', o.refunded_amount, false, ''
               FROM orders_order o
               JOIN orders_fulfilment f ON f.order_id = o.id
               JOIN sharing_click c ON c.viewer_id = o.buyer_id AND c.at = o.created_at - interval '5 minutes'
                                   AND c.shop_id = o.shop_id
               WHERE o.id >= %(o0)s AND o.paid_at IS NOT NULL AND o.id %% 5 = 0""",
            params,
            steps,
        )
        _commission_entries(cursor, params, steps)
        _timed(
            cursor,
            "events",
            """INSERT INTO insight_event (kind, shop_id, product_id, visitor, day, at)
               SELECT CASE WHEN g %% 10 = 0 THEN 'cart' ELSE 'view' END,
                      %(s0)s + 1 + least(%(shops)s - 1, floor(%(shops)s * power(random(), 3))::int),
                      %(product)s,
                      CASE WHEN v %% 5 = 0 THEN %(u0)s + 1 + (v %% %(buyers)s) ELSE -1 - v END,
                      (t AT TIME ZONE 'Asia/Shanghai')::date, t
               FROM (SELECT g, (g * 2654435761) %% %(visitors)s AS v,
                            now() - make_interval(days => (g %% %(days)s)::int)
                                  - (g %% 86400) * interval '1 second' AS t
                     FROM generate_series(1, %(events)s::bigint) g) AS source""",
            params,
            steps,
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        _timed(cursor, "analyze", "ANALYZE", None, steps)
    save(
        "insight_build",
        {**params, "seconds": round(time.perf_counter() - started, 1), "steps": steps},
    )


def _commission_entries(cursor, params: dict, steps: dict) -> None:
    """The sharer's 10% on each attributed line as the ledger holds it: one
    balanced capture entry per order (clearing debited, the sharer's pending
    credited), so that insight reads commission exactly where it reads it in
    production. The shop's and supplier's parts are left out: insight never
    reads them."""
    cursor.execute(
        """INSERT INTO ledger_account (owner_kind, owner_key, kind, currency, user_id, created_at)
           SELECT 'sharer', 'sharer:' || u, 'pending', 'CNY', u, now()
           FROM generate_series(%(u0)s + %(buyers)s + 1, %(u0)s + %(buyers)s + %(sharers)s) u
           ON CONFLICT DO NOTHING""",
        params,
    )
    cursor.execute(
        """INSERT INTO ledger_account (owner_kind, owner_key, kind, currency, created_at)
           VALUES ('platform', 'platform', 'clearing', 'CNY', now()) ON CONFLICT DO NOTHING"""
    )
    cursor.execute("SELECT max(id) FROM ledger_journalentry")
    (params["e0"],) = cursor.fetchone()
    params["e0"] = params["e0"] or 0
    _timed(
        cursor,
        "ledger entries",
        """INSERT INTO ledger_journalentry (kind, memo, order_id, created_at)
           SELECT 'capture', 'bench', l.order_id, now() FROM orders_orderline l
           WHERE l.order_id >= %(o0)s ORDER BY l.order_id""",
        params,
        steps,
    )
    _timed(
        cursor,
        "ledger postings",
        """INSERT INTO ledger_posting (entry_id, account_id, amount, line_id)
           SELECT e.id, side.account_id, side.amount, l.id
           FROM ledger_journalentry e
           JOIN orders_orderline l ON l.order_id = e.order_id
           JOIN ledger_account a ON a.owner_key = 'sharer:' || l.commission_beneficiary_id
                                AND a.kind = 'pending'
           CROSS JOIN LATERAL (VALUES
               ((SELECT id FROM ledger_account WHERE owner_key = 'platform' AND kind = 'clearing'
                 AND currency = 'CNY'), l.line_total * 1000 / 10000 - l.refunded_amount * 1000 / 10000),
               (a.id, -(l.line_total * 1000 / 10000 - l.refunded_amount * 1000 / 10000))
           ) AS side(account_id, amount)
           WHERE e.id > %(e0)s AND e.memo = 'bench'
             AND l.line_total * 1000 / 10000 - l.refunded_amount * 1000 / 10000 <> 0""",
        params,
        steps,
    )


def rollup() -> None:
    setup_django()
    from django.db import transaction

    from kinshop.core import clock
    from kinshop.insight import jobs

    started = time.perf_counter()
    with transaction.atomic():
        written = jobs.roll_up(clock.now())
    first = time.perf_counter() - started
    print(f"  first rollup (everything): {first:.1f} s, {written:,} rows", flush=True)
    started = time.perf_counter()
    with transaction.atomic():
        jobs.roll_up(clock.now())
    again = time.perf_counter() - started
    print(f"  next rollup (recent days): {again:.1f} s", flush=True)
    with transaction.atomic():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    save(
        "insight_rollup",
        {"first_seconds": round(first, 1), "again_seconds": round(again, 2), "rows": written},
    )


def _best_of(function, runs: int = 3) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def time_queries() -> None:
    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kinshop.insight import queries, rules
    from kinshop.shops.models import Shop

    period = rules.period(None, None, today=queries.today())
    # the biggest shop: the power law puts most orders on the first ones
    shop = Shop.objects.get(handle="insight-shop-1")
    platform = queries.platform_insight(period)
    with CaptureQueriesContext(connection) as platform_queries:
        queries.platform_insight(period)
    with CaptureQueriesContext(connection) as shop_queries:
        shop_numbers = queries.shop_insight(shop, period)
    platform_best, platform_median = _best_of(lambda: queries.platform_insight(period))
    shop_best, shop_median = _best_of(lambda: queries.shop_insight(shop, period))
    cohort_period = queries.cohort_period(None, None)
    cohorts_best, _ = _best_of(lambda: queries.cohorts(shop, cohort_period))
    result = {
        "period_days": period.days,
        "platform_best": platform_best,
        "platform_median": platform_median,
        "platform_queries": len(platform_queries.captured_queries),
        "shop_best": shop_best,
        "shop_median": shop_median,
        "shop_queries": len(shop_queries.captured_queries),
        "cohorts_best": cohorts_best,
        "platform": {
            key: platform[key]
            for key in ("gmv", "visitors", "buyers", "orders", "sharers", "sharer_income_gini")
        },
        "platform_funnel": platform["funnel"],
        "shop": {key: shop_numbers[key] for key in ("gmv", "visitors", "buyers", "orders")},
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
    }
    print(
        f"  platform insight: best {platform_best * 1000:.0f} ms, median {platform_median * 1000:.0f} ms"
    )
    print(f"  shop insight: best {shop_best * 1000:.0f} ms, median {shop_median * 1000:.0f} ms")
    save("insight_time", result)


DUCKDB_PLATFORM = """
WITH paid AS (
  SELECT buyer_id, total - refunded_amount AS net
  FROM pg.public.orders_order
  WHERE paid_at >= $start AND paid_at < $end
),
visits AS (
  SELECT visitor FROM pg.public.insight_event WHERE day >= $first_day AND day <= $last_day
  UNION
  SELECT buyer_id FROM pg.public.orders_order WHERE created_at >= $start AND created_at < $end
  UNION
  SELECT buyer_id FROM paid
  UNION
  SELECT viewer_id FROM pg.public.sharing_click
  WHERE "at" >= $start AND "at" < $end AND viewer_id IS NOT NULL
)
SELECT (SELECT sum(net) FROM paid) AS gmv,
       (SELECT count(*) FROM paid) AS orders,
       (SELECT count(DISTINCT buyer_id) FROM paid) AS buyers,
       (SELECT count(*) FROM visits) AS visitors,
       (SELECT count(*) FILTER (WHERE kind = 'view') FROM pg.public.insight_event
         WHERE day >= $first_day AND day <= $last_day) AS views
"""


def _duckdb_connection():
    """DuckDB with its postgres extension. The extension normally downloads from
    DuckDB's own server, which this machine cannot reach; the PyPI package
    `duckdb-ext-postgres` ships the same binary, loaded here from its path."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET threads TO 2")
    try:
        import duckdb_ext  # type: ignore[import-not-found]

        root = Path(next(iter(duckdb_ext.__path__)))
        found = sorted(
            root.glob(f"extensions/v{duckdb.__version__}/*/postgres_scanner.duckdb_extension")
        )
        if found:
            connection.execute(f"LOAD '{found[0]}'")
            return connection, "duckdb-ext-postgres (PyPI)"
    except ImportError:
        pass
    connection.execute("INSTALL postgres")
    connection.execute("LOAD postgres")
    return connection, "INSTALL postgres"


def duckdb_reference() -> None:
    import datetime as dt
    from urllib.parse import urlsplit

    timing = load("insight_time")
    url = urlsplit(os.environ["DATABASE_URL"])
    dsn = f"dbname={url.path.lstrip('/')} host={url.hostname or '127.0.0.1'} port={url.port or 5432} user={url.username or 'postgres'}"
    if url.password:
        dsn += f" password={url.password}"
    try:
        connection, how = _duckdb_connection()
    except Exception as error:  # no DuckDB or no extension: say so in the results
        print(f"  DuckDB unavailable: {error}")
        save("insight_duckdb", {"error": str(error)[:300]})
        return
    connection.execute(f"ATTACH '{dsn}' AS pg (TYPE postgres, READ_ONLY)")
    first_day = dt.date.fromisoformat(timing["from"])
    last_day = dt.date.fromisoformat(timing["to"])
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    start = dt.datetime.combine(first_day, dt.time.min, zone)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, zone)
    values = {"start": start, "end": end, "first_day": first_day, "last_day": last_day}
    started = time.perf_counter()
    row = connection.execute(DUCKDB_PLATFORM, values).fetchone()
    seconds = time.perf_counter() - started
    answer = dict(zip(("gmv", "orders", "buyers", "visitors", "views"), row, strict=True))
    print(f"  DuckDB over the raw tables: {seconds:.1f} s {answer}")
    save(
        "insight_duckdb",
        {
            "seconds": round(seconds, 2),
            "answer": {k: int(v or 0) for k, v in answer.items()},
            "how": how,
        },
    )


def section() -> str:
    """The insight rows and notes for RESULTS.md, from the JSON of this run."""
    from bench.common import work_dir

    def maybe(name: str):
        path = work_dir() / f"{name}.json"
        import json

        return json.loads(path.read_text()) if path.exists() else None

    build_, roll, timing, duck = (
        maybe(n) for n in ("insight_build", "insight_rollup", "insight_time", "insight_duckdb")
    )
    if not (build_ and roll and timing):
        return ""
    lines = [
        START,
        "## Insight at scale",
        "",
        f"{build_['orders']:,} orders and {build_['events']:,} events over {DAYS} days "
        f"({build_['shops']:,} shops, {build_['buyers']:,} buyers, {build_['sharers']:,} sharers, "
        f"{build_['visitors']:,} visitors), built with set-based SQL in {build_['seconds']:.0f} s.",
        "",
        "| measurement | Kinshop (from the rollups) | reference | ratio |",
        "| --- | --- | --- | --- |",
        f"| platform insight, {timing['period_days']} days + the previous period | "
        f"{timing['platform_best'] * 1000:.0f} ms best, {timing['platform_median'] * 1000:.0f} ms median "
        f"({timing['platform_queries']} queries) | "
        + (
            f"DuckDB over the raw tables (`ATTACH ... (TYPE postgres)`), one period: {duck['seconds']:.1f} s"
            if duck and "seconds" in duck
            else f"DuckDB: {duck.get('error', 'not run') if duck else 'not run'}"
        )
        + " | "
        + (
            f"{duck['seconds'] / timing['platform_best']:.0f}× faster"
            if duck and "seconds" in duck
            else "-"
        )
        + " |",
        f"| shop insight (the biggest shop), same periods | {timing['shop_best'] * 1000:.0f} ms best, "
        f"{timing['shop_median'] * 1000:.0f} ms median ({timing['shop_queries']} queries) | target < 1 s | "
        + ("ok" if timing["shop_best"] < 1 else "SLOW")
        + " |",
        f"| shop cohorts (12 months) | {timing['cohorts_best'] * 1000:.0f} ms | target < 1 s | "
        + ("ok" if timing["cohorts_best"] < 1 else "SLOW")
        + " |",
        f"| rollup job, first run (all {DAYS} days) / next run | {roll['first_seconds']:.0f} s / "
        f"{roll['again_seconds']:.1f} s | - | - |",
        "",
        f"Platform numbers from the rollups: {timing['platform']}, funnel {timing['platform_funnel']}.",
    ]
    if duck and "answer" in duck:
        same = all(
            duck["answer"][key] == timing["platform"][key]
            for key in ("gmv", "orders", "buyers", "visitors")
        )
        lines.append(
            f"DuckDB's answer from the raw tables: {duck['answer']} — "
            + (
                "the same GMV, orders, buyers and visitors."
                if same
                else "DIFFERENT from the rollups."
            )
            + f" (Extension: {duck['how']}.)"
        )
    lines += [
        "",
        "Build steps (s): " + ", ".join(f"{k} {v}" for k, v in build_["steps"].items()) + ".",
        "",
        "What grows with the size: a shop's insight counts its own visitor-days (the",
        "biggest shop here has a few percent of all traffic), so it grows with that",
        "shop's traffic, not the platform's; the platform's usual periods are read",
        "from the rollup job's snapshot, and any other period counts its rollups;",
        "cohorts read a shop's cohort cells. The next run of the rollup job",
        "recomputes the last KINSHOP_INSIGHT_RECOMPUTE_DAYS days, then counts the",
        "platform's usual periods anew for its snapshot (distinct visitors and",
        "buyers over up to a year of rollups, each with its previous period), so",
        "it costs more than a few days' orders would. The reference is DuckDB reading the same PostgreSQL",
        "tables through its postgres extension; `INSTALL postgres` cannot download it",
        "here (no access to DuckDB's extension server), so bench/insight.sh installs",
        "the PyPI package `duckdb-ext-postgres`, which ships the same binary.",
        END,
    ]
    return "\n".join(lines) + "\n"


def record() -> None:
    """Put this run's insight section into RESULTS.md, replacing the last one."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    new = section()
    if not new:
        print("  no insight run to record")
        return
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + new + after
    else:
        text = text.rstrip("\n") + "\n\n" + new
    RESULTS.write_text(text)
    print(new)


def main(argv: list[str]) -> None:
    command = argv[0] if argv else ""
    if command == "build":
        build(int(argv[1]), int(argv[2]))
    elif command == "rollup":
        rollup()
    elif command == "time":
        time_queries()
    elif command == "duckdb":
        duckdb_reference()
    elif command == "record":
        record()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
