"""Trust (信任代理 + 信任管理): verified reviews, complaints with deadlines and
arbitration, penalty points, and fraud flags that hold commission.

Every review hangs on an order line its author bought and received: there is no
other way to make one (no admin add). Complaints and fraud flags move through
`core.statemachine` like every lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinshop.core.models import StatusChange

if TYPE_CHECKING:
    from kinshop.core.statemachine import StatusTimestamps, Transitions


class Review(models.Model):
    """A buyer's review (评价) of one line of a completed order: verified by
    construction. One per line; one follow-up (追评) by its author."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    line = models.OneToOneField("orders.OrderLine", on_delete=models.PROTECT, related_name="review")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="reviews")
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(max_length=2000)
    follow_up = models.TextField(max_length=2000, blank=True, default="")
    follow_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            )
        ]
        indexes = [
            models.Index(fields=["product", "-id"], name="review_product_recent"),
            models.Index(fields=["supplier"], name="review_supplier"),
            models.Index(fields=["shop"], name="review_shop"),
        ]

    def __str__(self) -> str:
        return f"review #{self.pk} ({self.rating}★) of line #{self.line_id}"


class ReviewImage(models.Model):
    """A photo of a review, resized and stripped of its EXIF data before storing."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="reviews/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class ReviewReply(models.Model):
    """A reply by the product's supplier staff or the shop's keeper."""

    class Role(models.TextChoices):
        SUPPLIER = "supplier", _("supplier")
        SHOP = "shop", _("shopkeeper")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class Complaint(models.Model):
    """A buyer's complaint (投诉) on an order: answered by the supplier or the
    shop by `respond_by`, else escalated by the job; decided by the operator."""

    class Reason(models.TextChoices):
        NOT_RECEIVED = "not_received", _("not received")
        NOT_AS_DESCRIBED = "not_as_described", _("not as described")
        DAMAGED = "damaged", _("damaged")
        COUNTERFEIT = "counterfeit", _("counterfeit")
        SERVICE = "service", _("service")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")
        ESCALATED = "escalated", _("escalated to the operator")
        UPHELD = "upheld", _("upheld")
        DISMISSED = "dismissed", _("dismissed")

    TRANSITIONS: ClassVar[Transitions] = {
        Status.OPEN: {Status.ANSWERED, Status.ESCALATED, Status.UPHELD, Status.DISMISSED},
        Status.ANSWERED: {Status.UPHELD, Status.DISMISSED},
        Status.ESCALATED: {Status.UPHELD, Status.DISMISSED},
        Status.UPHELD: set(),
        Status.DISMISSED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {
        Status.ANSWERED: "answered_at",
        Status.ESCALATED: "escalated_at",
        Status.UPHELD: "decided_at",
        Status.DISMISSED: "decided_at",
    }

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    respond_by = models.DateTimeField()
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    refund = models.ForeignKey(
        "orders.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    penalty_points = models.PositiveSmallIntegerField(default=0)
    decision_note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "respond_by"], name="complaint_deadline")]

    def __str__(self) -> str:
        return f"complaint #{self.pk} on order #{self.order_id} ({self.status})"


class ComplaintSupplier(models.Model):
    """The suppliers with a part in a complaint's order, fixed when it is filed."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="suppliers")
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")


class ComplaintMessage(models.Model):
    """One message of the exchange, kept whole: the buyer's complaint, the
    answers, the operator's decision, the job's escalation."""

    class Role(models.TextChoices):
        BUYER = "buyer", _("buyer")
        SUPPLIER = "supplier", _("supplier")
        SHOP = "shop", _("shopkeeper")
        OPERATOR = "operator", _("operator")
        SYSTEM = "system", _("system")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class ComplaintStatusChange(StatusChange):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="history")


class Penalty(models.Model):
    """Penalty points (扣分) given to a supplier or a shop by an upheld complaint.
    Points of the last 365 days count towards suspension."""

    supplier = models.ForeignKey(
        "catalog.Supplier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shop = models.ForeignKey(
        "shops.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    complaint = models.ForeignKey(
        Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="penalties"
    )
    points = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=500, blank=True, default="")
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(supplier__isnull=False, shop__isnull=True)
                | Q(supplier__isnull=True, shop__isnull=False),
                name="penalty_one_party",
            )
        ]


class FraudFlag(models.Model):
    """A fraud rule's finding (DESIGN.md §6) with its evidence. While it is open,
    the commission of its lines is held in the ledger; the operator releases it
    (a false positive: the commission settles normally) or voids it (the
    commission goes to the shop's margin)."""

    class Kind(models.TextChoices):
        LINKED_IDENTITY = "linked_identity", _("linked identity (shared address)")
        ORDER_RING = "order_ring", _("order ring")
        REFUND_ABUSE = "refund_abuse", _("refund abuse")
        GROUP_SELF_FILL = "group_self_fill", _("group filled by its leader")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RELEASED = "released", _("released")
        VOIDED = "voided", _("voided")

    TRANSITIONS: ClassVar[Transitions] = {
        Status.OPEN: {Status.RELEASED, Status.VOIDED},
        Status.RELEASED: set(),
        Status.VOIDED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {
        Status.RELEASED: "resolved_at",
        Status.VOIDED: "resolved_at",
    }

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What the flag is about, e.g. "buyer:12" or "ring:3-7-9": one open flag per
    # kind and subject gathers its later orders.
    subject = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    order_ids = models.JSONField(default=list)
    user_ids = models.JSONField(default=list)
    evidence = models.JSONField(default=dict)
    lines = models.ManyToManyField("orders.OrderLine", blank=True, related_name="+")
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["kind", "subject", "status"], name="flag_subject")]

    def __str__(self) -> str:
        return f"{self.kind} flag #{self.pk} ({self.status})"


class FraudFlagStatusChange(StatusChange):
    flag = models.ForeignKey(FraudFlag, on_delete=models.CASCADE, related_name="history")


class OrderScreening(models.Model):
    """A paid order the fraud rules have looked at: each once."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="+")
    screened_at = models.DateTimeField()
