"""Insight's own facts: the traffic events it records (product views and cart
adds) and the daily rollups its job keeps current. Insight writes nothing else;
it reads orders, clicks and the ledger only in its job, never per request.

A visitor is one integer: a signed-in user's id (positive), or for a device
without an account a negative 63-bit hash of its first-party id, so that one
column counts both kinds and a buyer (a user) is the same visitor as their views
while signed in."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One product view or cart add, recorded server-side in the view that served
    it (one insert). Deleted after `KINSHOP_INSIGHT_EVENT_RETENTION_DAYS` by a job;
    the daily rollups keep their numbers."""

    class Kind(models.TextChoices):
        VIEW = "view", _("view")
        CART = "cart", _("cart add")

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=4, choices=Kind.choices)
    # Plain ids, no foreign keys: an insert on the request path checks nothing,
    # and a shop or product removed later leaves its history readable.
    shop_id = models.BigIntegerField()
    product_id = models.BigIntegerField(null=True, blank=True)
    visitor = models.BigIntegerField()
    day = models.DateField()  # the local calendar day of `at`, so rollups group without time zones
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="insight_event_day")]

    def __str__(self) -> str:
        return f"{self.kind} shop {self.shop_id} {self.at:%Y-%m-%d %H:%M}"


class RollupState(models.Model):
    """One row: when the rollup job last ran, as of which moment (`rolled_at`,
    the `--at` of `run-jobs`) and at what real time (`ran_at`), so the next run
    knows which days may have changed since. A run `--at` a later moment must
    not hide what happens afterwards in real time: the next run starts from the
    earlier of the two."""

    rolled_at = models.DateTimeField()
    ran_at = models.DateTimeField(null=True)


class ShopDay(models.Model):
    """Per shop and day (paid day for payments, placed day for placed orders): the
    orders and the GMV net of refunds. Refunds count against the day the order
    was paid, so a period's GMV is what its own sales came to."""

    shop_id = models.BigIntegerField()
    day = models.DateField()
    placed = models.PositiveIntegerField(default=0)  # orders created that day
    orders = models.PositiveIntegerField(default=0)  # orders paid that day
    gmv = models.BigIntegerField(default=0)  # fen: paid totals less their refunds
    units = models.BigIntegerField(default=0)  # units on the paid lines
    # paid orders that day that are self-purchases, by `ledger.queries.self_purchase_days`
    self_orders = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop_id", "day"], name="insight_one_shop_day")
        ]
        indexes = [models.Index(fields=["day"], name="insight_shopday_day")]


class TrafficDay(models.Model):
    """Per shop and day: product views and cart adds, from the events."""

    shop_id = models.BigIntegerField()
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    carts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop_id", "day"], name="insight_one_traffic_day")
        ]
        indexes = [models.Index(fields=["day"], name="insight_trafficday_day")]


class VisitorDay(models.Model):
    """Each distinct visitor of a shop on a day: from views, cart adds, share-link
    clicks and the buyers themselves (an order placed or paid is a visit, so
    conversion never exceeds one). Distinct visitors of a period are the distinct
    visitors of its rows."""

    # The key is the row: one index, which also answers "distinct visitors of
    # this shop in these days" on its own (an index-only scan).
    pk = models.CompositePrimaryKey("shop_id", "day", "visitor")
    shop_id = models.BigIntegerField()
    day = models.DateField()
    visitor = models.BigIntegerField()


class PlatformVisitorDay(models.Model):
    """Each distinct visitor of any shop on a day: the platform's visitors."""

    pk = models.CompositePrimaryKey("day", "visitor")
    day = models.DateField()
    visitor = models.BigIntegerField()


class BuyerDay(models.Model):
    """Per shop, paid day and buyer: the buyer's paid orders and their GMV net of
    refunds. Buyers, repeat buyers and the monthly cohorts come from here."""

    id = models.BigAutoField(primary_key=True)
    shop_id = models.BigIntegerField()
    shop_owner_id = models.BigIntegerField()
    day = models.DateField()
    buyer_id = models.BigIntegerField()
    orders = models.PositiveIntegerField(default=0)
    gmv = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_id", "day", "buyer_id"], name="insight_one_buyer_day"
            )
        ]
        indexes = [models.Index(fields=["day"], name="insight_buyerday_day")]


class SupplierDay(models.Model):
    """Per supplier and paid day: the paid orders holding its lines, its lines'
    value net of refunds and their its distinct buyers that day."""

    supplier_id = models.BigIntegerField()
    day = models.DateField()
    orders = models.PositiveIntegerField(default=0)
    gmv = models.BigIntegerField(default=0)
    units = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["supplier_id", "day"], name="insight_one_supplier_day")
        ]


class ReachDay(models.Model):
    """Per shop, supplier and day: the units retail reach counts, as
    `wholesale.queries.reach_days` defines them (shipped drop-ship and
    wholesale units by shipment day, offline sales by sale day, returns by the
    day their refund succeeded). One row per source and key, so the three
    sources are inserted apart; a reach is the sum of the rows up to a day."""

    id = models.BigAutoField(primary_key=True)
    shop_id = models.BigIntegerField()
    supplier_id = models.BigIntegerField()
    day = models.DateField()
    drop_shipped = models.BigIntegerField(db_default=0)
    wholesale_shipped = models.BigIntegerField(db_default=0)
    sold_offline = models.BigIntegerField(db_default=0)
    returned = models.BigIntegerField(db_default=0)

    class Meta:
        indexes = [
            models.Index(fields=["shop_id", "day"], name="insight_reachday_shop"),
            models.Index(fields=["supplier_id", "day"], name="insight_reachday_supplier"),
            models.Index(fields=["day"], name="insight_reachday_day"),
        ]


class CohortCell(models.Model):
    """Per shop: of the buyers whose first paid order there fell in month
    `cohort`, how many bought in month `month` (both the first of their month).
    The cohort heat map reads a shop's cells, never its buyers."""

    shop_id = models.BigIntegerField()
    cohort = models.DateField()
    month = models.DateField()
    buyers = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_id", "cohort", "month"], name="insight_one_cohort_cell"
            )
        ]


class LinkDay(models.Model):
    """Per share link, channel and day: clicks, the paid orders they brought (by
    paid day), the GMV of the attributed lines net of refunds, and the sharer's
    commission on them net of reversals, as the ledger recorded it.

    Only lines the link earned on count as its orders and GMV: a line whose
    commission was refused (the buyer was the sharer, linked to them, or the
    shopkeeper; `OrderLine.commission_refusal`) keeps its click as evidence but
    is a self-purchase, counted in the shop's `self_purchase_share`, not a sale
    the sharer brought. (Its click still counts as a click.)"""

    id = models.BigAutoField(primary_key=True)
    link_id = models.BigIntegerField()
    shop_id = models.BigIntegerField()
    sharer_id = models.BigIntegerField()
    channel = models.CharField(max_length=10)
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    gmv = models.BigIntegerField(default=0)
    commission = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link_id", "channel", "day"], name="insight_one_link_channel_day"
            )
        ]
        indexes = [
            models.Index(fields=["shop_id", "day"], name="insight_linkday_shop"),
            models.Index(fields=["sharer_id", "day"], name="insight_linkday_sharer"),
            models.Index(fields=["day"], name="insight_linkday_day"),
        ]


class PlatformSnapshot(models.Model):
    """The platform's counts for the usual periods (the last 7, 30 and 90 days
    and the periods before them), computed by the rollup job right after the
    rollups: across every shop, distinct visitors and buyers of a month are
    millions of rows to count, too many for a request. Rewritten on every run,
    so a snapshot is exactly as current as the rollups; a request for any other
    period counts from the rollups itself."""

    start = models.DateField()
    end = models.DateField()
    numbers = models.JSONField()  # {"now": {...}, "before": {...}}: Numbers fields

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["start", "end"], name="insight_one_platform_snapshot")
        ]
