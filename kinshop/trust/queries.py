"""Read helpers of trust: who may see a complaint, reviews of a product, the
signals a trust score is made of, and the history the fraud rules look at."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from kinshop.catalog.models import SupplierMembership
from kinshop.core import clock
from kinshop.orders.models import Fulfilment, Order, OrderLine
from kinshop.trust import rules
from kinshop.trust.models import Complaint, FraudFlag, OrderScreening, Penalty, Review

PENALTY_YEAR = dt.timedelta(days=365)


def supplier_ids_of(user) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(SupplierMembership.objects.filter(user=user).values_list("supplier_id", flat=True))


def complaint_visibility(user) -> Q:
    """Who may see a complaint: its buyer, its shop's keeper, the staff of a
    supplier with a part in its order, and operators."""
    if user.is_staff:
        return Q()
    return (
        Q(buyer_id=user.id)
        | Q(shop__owner_id=user.id)
        | Q(suppliers__supplier_id__in=supplier_ids_of(user))
    )


def visible_complaints(user) -> QuerySet[Complaint]:
    if not user.is_authenticated:
        return Complaint.objects.none()
    ids = Complaint.objects.filter(complaint_visibility(user)).values("pk")
    return Complaint.objects.filter(pk__in=ids).prefetch_related("messages", "suppliers")


def product_reviews(product_id: int) -> QuerySet[Review]:
    return (
        Review.objects.filter(product_id=product_id)
        .select_related("line", "author")
        .prefetch_related("images", "replies")
        .order_by("-id")
    )


def rating_distribution(product_id: int) -> dict[str, int]:
    """How many reviews gave each number of stars: {"1": n, ..., "5": n}."""
    counts = dict.fromkeys(("1", "2", "3", "4", "5"), 0)
    for row in (
        Review.objects.filter(product_id=product_id)
        .values("rating")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[str(row["rating"])] = row["n"]
    return counts


def penalty_points(*, supplier_id: int | None = None, shop_id: int | None = None, now=None) -> int:
    """Penalty points of the last 365 days."""
    now = now or clock.now()
    party = Q(supplier_id=supplier_id) if supplier_id is not None else Q(shop_id=shop_id)
    total = Penalty.objects.filter(party, created_at__gt=now - PENALTY_YEAR).aggregate(
        total=Sum("points")
    )["total"]
    return int(total or 0)


def _signals(
    *, reviews: QuerySet, fulfilments: QuerySet, lines: QuerySet, complaints: QuerySet, points: int
) -> rules.TrustSignals:
    rating = reviews.aggregate(total=Sum("rating"), n=Count("id"))
    within = dt.timedelta(hours=settings.KINSHOP_SHIP_WITHIN_HOURS)
    shipped = fulfilments.filter(shipped_at__isnull=False, order__paid_at__isnull=False)
    paid_lines = lines.filter(order__paid_at__isnull=False, is_wholesale=False)
    return rules.TrustSignals(
        rating_sum=int(rating["total"] or 0),
        rating_count=rating["n"],
        shipped=shipped.count(),
        shipped_on_time=shipped.filter(shipped_at__lte=F("order__paid_at") + within).count(),
        orders=paid_lines.values("order_id").distinct().count(),
        refunded=paid_lines.filter(refunded_amount__gt=0).values("order_id").distinct().count(),
        complaints=complaints.count(),
        upheld_complaints=complaints.filter(status=Complaint.Status.UPHELD).count(),
        penalty_points=points,
    )


def supplier_signals(supplier_id: int) -> rules.TrustSignals:
    return _signals(
        reviews=Review.objects.filter(supplier_id=supplier_id),
        fulfilments=Fulfilment.objects.filter(supplier_id=supplier_id),
        lines=OrderLine.objects.filter(supplier_id=supplier_id),
        complaints=Complaint.objects.filter(
            pk__in=Complaint.objects.filter(suppliers__supplier_id=supplier_id).values("pk")
        ),
        points=penalty_points(supplier_id=supplier_id),
    )


def shop_signals(shop_id: int) -> rules.TrustSignals:
    return _signals(
        reviews=Review.objects.filter(shop_id=shop_id),
        fulfilments=Fulfilment.objects.filter(order__shop_id=shop_id),
        lines=OrderLine.objects.filter(shop_id=shop_id),
        complaints=Complaint.objects.filter(shop_id=shop_id),
        points=penalty_points(shop_id=shop_id),
    )


def trust_summary(signals: rules.TrustSignals, *, is_verified: bool) -> dict:
    """The public trust card: `get_supplier_trust` / `get_shop_trust`."""
    bayesian = rules.bayesian_rating(signals.rating_sum, signals.rating_count)
    average = signals.rating_sum / signals.rating_count if signals.rating_count else 0.0
    return {
        "score": rules.trust_score(signals),
        "rating": {
            "average": round(average, 2),
            "count": signals.rating_count,
            "bayesian": round(float(bayesian), 2),
        },
        "on_time_shipping_rate": rules.rate_bp(signals.shipped_on_time, signals.shipped),
        "refund_rate": rules.rate_bp(signals.refunded, signals.orders),
        "upheld_complaint_rate": rules.rate_bp(signals.upheld_complaints, signals.complaints),
        "penalty_points": signals.penalty_points,
        "is_verified": is_verified,
    }


def shop_summary(shop_id: int, *, is_suspended: bool) -> dict:
    """A shop's public trust card: a shop in good standing (not suspended) is
    verified."""
    return trust_summary(shop_signals(shop_id), is_verified=not is_suspended)


def open_flags() -> QuerySet[FraudFlag]:
    return FraudFlag.objects.filter(status=FraudFlag.Status.OPEN)


def unscreened_paid_orders(*, since: dt.datetime, limit: int) -> list[Order]:
    """Consumer orders paid since `since` that no fraud rule has looked at yet,
    oldest first, locked (skipping those another worker holds). The window keeps
    the job off the whole order history (the `paid_at` index bounds the scan),
    and NOT EXISTS probes the screenings' unique order index row by row instead
    of reading every screening there ever was."""
    screened = OrderScreening.objects.filter(order_id=OuterRef("pk"))
    return list(
        Order.objects.filter(paid_at__gte=since, is_wholesale=False)
        .filter(~Exists(screened))
        .order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))[:limit]
    )
