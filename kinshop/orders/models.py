from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinshop.core.models import StatusChange

if TYPE_CHECKING:
    from kinshop.core.statemachine import StatusTimestamps, Transitions


class Allotment(models.Model):
    """Units a campaign sets aside on a limited basis, counted where orders can
    keep the count true: a flash sale's units or a group buy's seats (拼团).
    Campaigns (above orders) creates one per flash sale and per group; orders
    takes from it with a conditional update when an order is placed, gives back
    when that order is cancelled unpaid, and, for a group, counts the members who
    have paid, so that the payment itself decides when the group is complete:
    no campaign code runs at capture. A group is complete only when `paid`
    reaches `limit` before `closes_at`; once `failed_at` is set nothing more can
    be taken or paid."""

    class Kind(models.TextChoices):
        FLASH = "flash", _("flash sale")
        GROUP = "group", _("group")

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    limit = models.PositiveIntegerField()
    taken = models.PositiveIntegerField(default=0)
    paid = models.PositiveIntegerField(default=0)
    closes_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(taken__lte=models.F("limit")), name="allotment_taken_at_most_limit"
            ),
            models.CheckConstraint(
                condition=Q(paid__lte=models.F("limit")), name="allotment_paid_at_most_limit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def left(self) -> int:
        return self.limit - self.taken


class Order(models.Model):
    """A consumer's purchase from one shop. Suppliers ship their own lines
    directly to the consumer (一件代发); the shop holds no stock. A wholesale
    order (批发) is the shopkeeper's own purchase of stock for offline resale, at
    the supplier's tier price: no sharer and no commission, ever."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("awaiting payment")
        AWAITING_BALANCE = "awaiting_balance", _("deposit paid, awaiting the balance")
        PAID = "paid", _("paid")
        SHIPPED = "shipped", _("shipped")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")
        REFUNDED = "refunded", _("refunded")

    TRANSITIONS: ClassVar[Transitions] = {
        # A pre-sale order (预售) pays its deposit first, then its balance
        # inside the balance window; a balance not paid in time cancels it and
        # its deposit goes back.
        Status.PENDING_PAYMENT: {Status.PAID, Status.AWAITING_BALANCE, Status.CANCELLED},
        Status.AWAITING_BALANCE: {Status.PAID, Status.CANCELLED},
        Status.PAID: {Status.SHIPPED, Status.REFUNDED},
        Status.SHIPPED: {Status.COMPLETED, Status.REFUNDED},
        Status.COMPLETED: {Status.REFUNDED},
        Status.CANCELLED: set(),
        Status.REFUNDED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {
        Status.AWAITING_BALANCE: "deposit_paid_at",
        Status.PAID: "paid_at",
        Status.SHIPPED: "shipped_at",
        Status.COMPLETED: "completed_at",
        Status.CANCELLED: "cancelled_at",
    }

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    currency = models.CharField(max_length=3, default="CNY")
    total = models.PositiveBigIntegerField()
    refunded_amount = models.PositiveBigIntegerField(default=0)
    recipient_name = models.CharField(_("recipient"), max_length=60)
    recipient_phone = models.CharField(_("phone"), max_length=20)
    region = models.CharField(_("region"), max_length=120)
    address_detail = models.CharField(_("address"), max_length=255)
    share_code = models.CharField(max_length=16, blank=True, default="")
    is_wholesale = models.BooleanField(default=False)
    # A campaign order takes `allotment_units` from its allotment (a flash
    # sale's units, or one seat of a group), given back if it is cancelled
    # unpaid. A group order is `awaiting_group` until the group is complete: it
    # cannot be shipped, nor refunded in part (a failed group refunds it whole).
    allotment = models.ForeignKey(
        Allotment, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    allotment_units = models.PositiveIntegerField(default=0)
    campaign = models.CharField(max_length=8, blank=True, default="")  # "", flash or group
    awaiting_group = models.BooleanField(default=False)
    # A pre-sale order (campaign "presale") owes `deposit` (for all its units)
    # first, then the rest of `total` between `balance_starts_at` and
    # `balance_ends_at`; it ships on `ships_on`. Payments decide deposit or
    # balance from these facts alone.
    deposit = models.PositiveBigIntegerField(default=0)
    balance_starts_at = models.DateTimeField(null=True, blank=True)
    balance_ends_at = models.DateTimeField(null=True, blank=True)
    ships_on = models.DateField(null=True, blank=True)
    deposit_paid_at = models.DateTimeField(null=True, blank=True)
    payment_deadline = models.DateTimeField()
    created_at = models.DateTimeField(db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "payment_deadline"], name="order_status_deadline"),
            models.Index(fields=["status", "shipped_at"], name="order_status_shipped"),
            models.Index(fields=["shop", "-id"], name="order_shop_recent"),
            models.Index(fields=["buyer", "-id"], name="order_buyer_recent"),
            # The trust job's window of recently paid orders (and any question
            # asked by payment time) reads a range of this, not the whole table.
            models.Index(fields=["paid_at"], name="order_paid_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("total")),
                name="order_refund_at_most_total",
            ),
            models.CheckConstraint(
                condition=Q(deposit__lte=models.F("total")), name="order_deposit_at_most_total"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def refundable_amount(self) -> int:
        return self.total - self.refunded_amount

    @property
    def is_presale(self) -> bool:
        return self.deposit > 0

    @property
    def amount_due(self) -> int:
        """What the next payment must bring: the deposit of an unpaid pre-sale
        order, its balance once the deposit is in, the total of any other
        unpaid order; nothing once paid or closed."""
        if self.status == self.Status.PENDING_PAYMENT:
            return self.deposit if self.is_presale else self.total
        if self.status == self.Status.AWAITING_BALANCE:
            return self.total - self.deposit
        return 0


class Fulfilment(models.Model):
    """One supplier's part of an order: it sees and ships only its own lines."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting for payment")
        TO_SHIP = "to_ship", _("to ship")
        SHIPPED = "shipped", _("shipped")
        CANCELLED = "cancelled", _("cancelled")

    # Waiting until the order is paid; cancelled with an unpaid order, or when a
    # full refund leaves nothing to ship.
    TRANSITIONS: ClassVar[Transitions] = {
        Status.WAITING: {Status.TO_SHIP, Status.CANCELLED},
        Status.TO_SHIP: {Status.SHIPPED, Status.CANCELLED},
        Status.SHIPPED: set(),
        Status.CANCELLED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {Status.SHIPPED: "shipped_at"}

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfilments")
    supplier = models.ForeignKey(
        "catalog.Supplier", on_delete=models.PROTECT, related_name="fulfilments"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITING)
    carrier = models.CharField(max_length=40, blank=True, default="")
    tracking_no = models.CharField(max_length=60, blank=True, default="")
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "supplier"], name="one_fulfilment_per_supplier"
            )
        ]
        indexes = [models.Index(fields=["supplier", "status"], name="fulfilment_supplier_status")]


class OrderLine(models.Model):
    """A SKU bought at the shop's price. Everything money depends on is frozen
    here at order time: unit price, supply price, commission and fee rates, and
    the single commission beneficiary with the evidence that names them."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    fulfilment = models.ForeignKey(Fulfilment, on_delete=models.PROTECT, related_name="lines")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="order_lines")
    title = models.CharField(max_length=120)
    sku_name = models.CharField(max_length=120)
    quantity = models.PositiveIntegerField()
    unit_price = models.PositiveBigIntegerField()
    line_total = models.PositiveBigIntegerField()
    unit_supply_price = models.PositiveBigIntegerField()
    commission_rate_bp = models.PositiveIntegerField()
    platform_fee_bp = models.PositiveIntegerField()
    # One beneficiary at most, by construction: there is no second field, no
    # chain of referrers, nothing that could pay a level above the sharer.
    commission_beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commissioned_lines",
    )
    attribution_click = models.ForeignKey(
        "sharing.Click", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attribution_policy = models.CharField(max_length=12, blank=True, default="")
    attribution_note = models.CharField(max_length=120, blank=True, default="")
    # Why the sharer named by the click earns nothing ("" when they earn, or
    # nobody brought the buyer): self_referral, linked_identity or shopkeeper
    # (sharing.rules); the note says what linked them. Decided at order time,
    # and again when the payment is captured (a payer account in common).
    commission_refusal = models.CharField(max_length=16, blank=True, default="")
    refunded_amount = models.PositiveBigIntegerField(default=0)
    # Buying stock never earns anyone anything: the database itself refuses a
    # wholesale line with a beneficiary, a commission rate or attribution.
    is_wholesale = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(is_wholesale=False)
                | Q(
                    commission_beneficiary__isnull=True,
                    attribution_click__isnull=True,
                    commission_rate_bp=0,
                ),
                name="wholesale_line_without_commission",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("line_total")),
                name="line_refund_at_most_total",
            ),
        ]
        indexes = [
            models.Index(fields=["commission_beneficiary", "order"], name="line_beneficiary")
        ]

    @property
    def supply_total(self) -> int:
        return self.unit_supply_price * self.quantity


class OrderStatusChange(StatusChange):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")


class FulfilmentStatusChange(StatusChange):
    fulfilment = models.ForeignKey(Fulfilment, on_delete=models.CASCADE, related_name="history")


class Refund(models.Model):
    """An after-sales refund (退款) of all or part of an order, optionally of one
    supplier's part. The money goes back through the payment provider; the
    ledger reverses the split of the lines it covers, pro rata."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved, money on its way")
        SUCCEEDED = "succeeded", _("refunded")
        REJECTED = "rejected", _("rejected")
        FAILED = "failed", _("failed")

    # A failed refund is not approved again: its provider refunds (one per
    # payment it went back through) exist already and all failed; the buyer asks
    # again instead. A refund that went back in part succeeds for that part, and
    # its failed rest is recorded as a failed refund of its own.
    TRANSITIONS: ClassVar[Transitions] = {
        Status.REQUESTED: {Status.APPROVED, Status.REJECTED},
        Status.APPROVED: {Status.SUCCEEDED, Status.FAILED},
        Status.FAILED: set(),
        Status.SUCCEEDED: set(),
        Status.REJECTED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {
        Status.APPROVED: "decided_at",
        Status.REJECTED: "decided_at",
        Status.SUCCEEDED: "succeeded_at",
    }

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    supplier = models.ForeignKey(
        "catalog.Supplier", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    restock = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=1), name="refund_positive")]


class RefundLine(models.Model):
    """How much of a refund falls on each line, fixed when the refund succeeds."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="allocations")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="refund_allocations")
    amount = models.PositiveBigIntegerField()


class RefundStatusChange(StatusChange):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="history")
