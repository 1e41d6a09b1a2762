from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinshop.core.models import StatusChange

if TYPE_CHECKING:
    from kinshop.core.statemachine import StatusTimestamps, Transitions


class Payment(models.Model):
    """One attempt to pay an order (or a pre-sale's deposit or balance) through
    a provider. At most one payment of an order is ever captured for each
    purpose: the database refuses a second."""

    class Purpose(models.TextChoices):
        FULL = "full", _("the whole order")
        DEPOSIT = "deposit", _("a pre-sale's deposit")
        BALANCE = "balance", _("a pre-sale's balance")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the payer")
        CAPTURED = "captured", _("captured")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")
        REFUNDED_LATE = "refunded_late", _("refunded: arrived after the order was closed")

    TRANSITIONS: ClassVar[Transitions] = {
        Status.PENDING: {Status.CAPTURED, Status.FAILED, Status.CANCELLED, Status.REFUNDED_LATE},
        Status.FAILED: {Status.CAPTURED, Status.REFUNDED_LATE},
        Status.CANCELLED: {Status.CAPTURED, Status.REFUNDED_LATE},
        Status.CAPTURED: set(),
        Status.REFUNDED_LATE: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {
        Status.CAPTURED: "captured_at",
        Status.REFUNDED_LATE: "captured_at",
    }

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    amount = models.PositiveBigIntegerField()
    # What it pays: a pre-sale order is paid twice, deposit then balance.
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.FULL)
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(max_length=64, unique=True)
    provider_transaction_id = models.CharField(max_length=64, blank=True, default="")
    pay_url = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "purpose"],
                condition=Q(status="captured"),
                name="one_captured_payment_per_order",
            )
        ]

    def __str__(self) -> str:
        return self.reference


class ProviderRefund(models.Model):
    """Money sent back through the provider, for an after-sales refund (or one
    payment's part of it) or for a payment that arrived after its order was
    closed, or a pre-sale's lapsed deposit.

    It is the outbox of a money call: the row is written in the transaction that
    decides the refund, and the task worker carries the call out after commit,
    with retries, as `reference` (WeChat Pay's out_refund_no) so that a call
    made twice refunds once at the provider."""

    class Status(models.TextChoices):
        PENDING = "pending", _("to send")
        SENT = "sent", _("sent, waiting for the provider")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    # A provider may report a refund as failed and later as succeeded (WeChat
    # Pay's ABNORMAL refunds, settled by hand): the success is applied.
    TRANSITIONS: ClassVar[Transitions] = {
        Status.PENDING: {Status.SENT, Status.SUCCEEDED, Status.FAILED},
        Status.SENT: {Status.SUCCEEDED, Status.FAILED},
        Status.FAILED: {Status.SUCCEEDED},
        Status.SUCCEEDED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {Status.SUCCEEDED: "succeeded_at"}

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # The after-sales refund this carries, all or part of: a refund larger than
    # what is left on one payment (a pre-sale paid as deposit and balance) goes
    # back as one provider refund per payment, and succeeds once all have.
    refund = models.ForeignKey(
        "orders.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="provider_refunds",
    )
    amount = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=80, blank=True, default="")
    reference = models.CharField(max_length=64, unique=True)
    provider_refund_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the worker may try (again): a pending refund whose time has come and
    # that no worker is carrying out is sent again by the `retry_refunds` job.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="provider_refund_due"),
        ]


class PaymentStatusChange(StatusChange):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="history")


class ProviderRefundStatusChange(StatusChange):
    provider_refund = models.ForeignKey(
        ProviderRefund, on_delete=models.CASCADE, related_name="history"
    )


class WebhookEvent(models.Model):
    """Every notification a provider sent, kept once by its id: a notification
    delivered ten times is processed once."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once")
        ]
