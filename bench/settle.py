"""Settlement of many matured order lines by the real job, against one bare SQL
statement inserting as many postings.

    python -m bench.settle build N   # N completed, captured lines, 30 days old
    python -m bench.settle run       # run kinshop.ops.jobs.run_due(now), time its settle job
    python -m bench.settle reference # time one INSERT ... SELECT generate_series

`build` makes the data with set-based SQL (a Python loop of 100,000 captures
would not fit the time budget) but never invents ledger rows: the first order's
capture is written by `ledger.services.record_capture` itself, and every other
order gets a copy of exactly those postings (same accounts, same amounts, one
set per line), so the ledger is what 100,000 real captures would have written.
Orders are one line each, completed 30 days ago (well past the after-sales
window), shipped and paid before that. Rows that settlement never reads
(payments, status history, webhook events) are not made.
"""

from __future__ import annotations

import sys
import time

from bench.common import load, save, setup_django

AGE_DAYS = 30


def build(count: int) -> None:
    setup_django()
    from django.db import connection, transaction

    from kinshop.accounts.models import User
    from kinshop.catalog.models import SKU
    from kinshop.ledger import services as ledger
    from kinshop.orders.models import Order
    from kinshop.shops.models import SelectionPrice, Shop

    seed = load("seed")
    shop = Shop.objects.get(handle=seed["main_shop"])
    sku = SKU.objects.select_related("product").get(pk=seed["skus"][0])
    price = SelectionPrice.objects.get(shop=shop, sku=sku).retail_price
    # Any buyer will do: one who has ordered in an earlier phase, or else the
    # first load-test buyer the seed made (phase 3 may run on its own).
    buyer_id = (
        Order.objects.order_by("id").values_list("buyer_id", flat=True).first()
        or User.objects.filter(username__startswith="bench-buyer-").order_by("id")[:1].get().pk
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM orders_order")
        (before,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO orders_order (buyer_id, shop_id, status, currency, total,
                refunded_amount, recipient_name, recipient_phone, region, address_detail,
                share_code, payment_deadline, created_at, paid_at, shipped_at, completed_at,
                is_wholesale, allotment_units, campaign, awaiting_group, deposit)
            SELECT %(buyer)s, %(shop)s, 'completed', 'CNY', %(price)s, 0, 'Bench Buyer',
                '13800000000', 'Shanghai', '1 Road', '',
                t + interval '30 minutes', t, t + interval '1 minute', t + interval '1 day',
                t + interval '2 days', false, 0, '', false, 0
            FROM (SELECT now() - make_interval(days => %(age)s) - g * interval '1 second' AS t
                  FROM generate_series(1, %(count)s) AS g) AS times
            """,
            {"buyer": buyer_id, "shop": shop.id, "price": price, "age": AGE_DAYS, "count": count},
        )
        cursor.execute(
            """
            INSERT INTO orders_fulfilment (order_id, supplier_id, status, carrier,
                tracking_no, shipped_at)
            SELECT id, %(supplier)s, 'shipped', 'SF Express', 'SF' || id, shipped_at
            FROM orders_order WHERE id > %(before)s
            """,
            {"supplier": sku.supplier_id, "before": before},
        )
        cursor.execute(
            """
            INSERT INTO orders_orderline (order_id, fulfilment_id, shop_id, supplier_id,
                product_id, sku_id, title, sku_name, quantity, unit_price, line_total,
                unit_supply_price, commission_rate_bp, platform_fee_bp,
                commission_beneficiary_id, attribution_click_id, attribution_policy,
                attribution_note, refunded_amount, is_wholesale, commission_refusal)
            SELECT f.order_id, f.id, %(shop)s, %(supplier)s, %(product)s, %(sku)s,
                %(title)s, %(sku_name)s, 1, %(price)s, %(price)s, %(supply)s, 0,
                %(fee)s, NULL, NULL, '', '', 0, false, ''
            FROM orders_fulfilment f WHERE f.order_id > %(before)s
            """,
            {
                "shop": shop.id,
                "supplier": sku.supplier_id,
                "product": sku.product_id,
                "sku": sku.id,
                "title": sku.product.title,
                "sku_name": sku.name,
                "price": price,
                "supply": sku.supply_price,
                "fee": _fee_bp(),
                "before": before,
            },
        )
        # Each order was screened by the fraud rules when it was paid, as the
        # checkout does; the screening job has nothing left to do.
        cursor.execute(
            """
            INSERT INTO trust_orderscreening (order_id, screened_at)
            SELECT id, paid_at FROM orders_order WHERE id > %s
            """,
            [before],
        )
        # The prototype: the real service writes the first order's capture.
        first = Order.objects.filter(pk__gt=before).order_by("pk").first()
        entry = ledger.record_capture(order=first)
        template = list(entry.postings.order_by("id").values_list("account_id", "amount"))
        values = ", ".join(["(%s, %s, %s)"] * len(template))
        params = [
            value for n, (account, amount) in enumerate(template) for value in (n, account, amount)
        ]
        cursor.execute(
            """
            INSERT INTO ledger_journalentry (kind, memo, order_id, created_at)
            SELECT 'capture', 'payment of order #' || id, id, paid_at
            FROM orders_order WHERE id > %s ORDER BY id
            """,
            [first.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO ledger_posting (entry_id, account_id, amount, line_id)
            SELECT e.id, t.account_id, t.amount, l.id
            FROM ledger_journalentry e
            JOIN orders_orderline l ON l.order_id = e.order_id
            CROSS JOIN (VALUES {values}) AS t(n, account_id, amount)
            WHERE e.kind = 'capture' AND e.order_id > %s
            ORDER BY e.id, t.n
            """,
            [*params, first.pk],
        )
    with connection.cursor() as cursor:
        # What autovacuum would have done long before these orders matured.
        for table in (
            "orders_order",
            "orders_fulfilment",
            "trust_orderscreening",
            "orders_orderline",
            "ledger_journalentry",
            "ledger_posting",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    seconds = time.perf_counter() - started
    save(
        "settle_build",
        {"lines": count, "postings_per_line": len(template), "seconds": round(seconds, 1)},
    )
    print(
        f"  built {count} matured lines ({len(template)} capture postings each) in {seconds:.1f} s"
    )


def _fee_bp() -> int:
    from django.conf import settings

    return settings.KINSHOP_PLATFORM_FEE_BP


def run() -> None:
    setup_django()
    from django.db import connection

    from kinshop.core import clock
    from kinshop.ledger import queries
    from kinshop.ledger.models import JournalEntry, Posting
    from kinshop.ops import jobs

    now = clock.now()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    done = jobs.run_due(now, seconds=timings)
    total = time.perf_counter() - started
    # The figure is the settlement job's own time (its batches and their
    # commits); run_due's other jobs (the insight rollup reads every order
    # just built) are timed apart and reported beside it.
    seconds = timings["settle"]
    others = {name: round(spent, 2) for name, spent in timings.items() if name != "settle"}
    postings = Posting.objects.filter(entry__kind=JournalEntry.Kind.SETTLEMENT).count()
    entries = JournalEntry.objects.filter(kind=JournalEntry.Kind.SETTLEMENT).count()
    health = queries.health()
    connection.close()
    save(
        "settle_run",
        {
            "seconds": seconds,
            "run_due_seconds": total,
            "other_jobs_seconds": {name: spent for name, spent in others.items() if spent >= 0.01},
            "done": done,
            "postings": postings,
            "entries": entries,
            "balanced": health["balanced"],
            "mismatches": health["mismatches"][:5],
        },
    )
    print(
        f"  settle job: {done['settle']} lines in {seconds:.2f} s (run_due {total:.1f} s: "
        f"other jobs {sum(others.values()):.1f} s, {done}); {entries} settlement entries, "
        f"{postings} postings; ledger balanced: {health['balanced']}"
    )


def reference() -> None:
    """One statement inserting as many postings into a WAL-logged copy of
    ledger_posting with the same columns, defaults, checks and indexes."""
    setup_django()
    from django.db import connection, transaction

    count = load("settle_run")["postings"] or load("settle_build")["lines"] * 2
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_posting_scratch")
        cursor.execute("CREATE TABLE bench_posting_scratch (LIKE ledger_posting INCLUDING ALL)")
        started = time.perf_counter()
        with transaction.atomic():
            cursor.execute(
                """
                INSERT INTO bench_posting_scratch (entry_id, account_id, amount, line_id)
                SELECT g / 4 + 1, g %% 4 + 1, CASE WHEN g %% 2 = 0 THEN 100 ELSE -100 END, g / 2
                FROM generate_series(1, %s) AS g
                """,
                [count],
            )
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_posting_scratch")
    save("settle_reference", {"seconds": seconds, "postings": count})
    print(f"  bare SQL: {count} postings in {seconds:.2f} s")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "build":
        build(int(sys.argv[2]))
    elif command == "run":
        run()
    elif command == "reference":
        reference()
    else:
        raise SystemExit(__doc__)
