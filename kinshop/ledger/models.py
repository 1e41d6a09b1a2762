"""The append-only double-entry ledger (复式记账), wallets and withdrawals (提现).

Sign convention: a `Posting.amount` is signed, **debit positive, credit
negative**; every journal entry's postings sum to zero. Money the platform owes a
party (pending, available, withdrawal hold) therefore carries a credit (negative)
balance; the wallet shows it negated. The clearing account (money held at the
payment provider) carries a debit balance. A party's `payout` account is credited
with what was paid out to it, so cash at the provider = clearing + payouts.

Balances are never stored: they are sums of postings. Entries and postings are
never updated or deleted, by the model, its manager and a database trigger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinshop.core.models import StatusChange

if TYPE_CHECKING:
    from kinshop.core.statemachine import StatusTimestamps, Transitions


class ImmutableRow(Exception):
    """Raised on any attempt to change or delete a ledger row that exists."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRow(f"{self.model.__name__} rows are append-only: no update.")

    def delete(self):
        raise ImmutableRow(f"{self.model.__name__} rows are append-only: no delete.")

    def _raw_delete(self, using):  # the deletion collector's fast path
        raise ImmutableRow(f"{self.model.__name__} rows are append-only: no delete.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableRow(f"{self.model.__name__} rows are append-only: no update.")

    def update_or_create(self, *args, **kwargs):
        raise ImmutableRow(f"{self.model.__name__} rows are append-only: no update.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRow(f"{type(self).__name__} #{self.pk} is append-only: no update.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRow(f"{type(self).__name__} #{self.pk} is append-only: no delete.")


class Account(models.Model):
    """One account of one owner: a party (supplier, shop, sharer) or the platform.

    `owner_key` names the owner in one column ("supplier:12", "shop:3",
    "sharer:7", "platform") so that (kind, owner, currency) is unique even though
    the party's foreign keys are nullable."""

    class OwnerKind(models.TextChoices):
        SUPPLIER = "supplier", _("supplier payable")
        SHOP = "shop", _("shop margin")
        SHARER = "sharer", _("sharer commission")
        PLATFORM = "platform", _("platform")

    class Kind(models.TextChoices):
        # platform
        CLEARING = "clearing", _("clearing: money held at the payment provider")
        PLATFORM_FEE = "platform_fee", _("platform fee")
        LATE_PAYMENT_REFUND = "late_payment_refund", _("late payments owed back to payers")
        DEPOSITS = "deposits", _("pre-sale deposits held until the balance is paid")
        # parties
        PENDING = "pending", _("pending: earned, not yet settled")
        AVAILABLE = "available", _("available: settled, may be withdrawn")
        WITHDRAWAL_HOLD = "withdrawal_hold", _("requested for withdrawal")
        PAYOUT = "payout", _("paid out")
        # A sharer's commission on a line under an open fraud flag: neither
        # settled nor withdrawable until the operator releases or voids it.
        HELD = "held", _("held: commission under review")

    PARTY_KINDS = (Kind.PENDING, Kind.AVAILABLE, Kind.WITHDRAWAL_HOLD, Kind.PAYOUT, Kind.HELD)

    owner_kind = models.CharField(max_length=10, choices=OwnerKind.choices)
    owner_key = models.CharField(max_length=40)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    currency = models.CharField(max_length=3, default="CNY")
    supplier = models.ForeignKey(
        "catalog.Supplier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shop = models.ForeignKey(
        "shops.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "owner_key", "currency"], name="ledger_one_account_per_owner_kind"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        owner_kind="supplier",
                        supplier__isnull=False,
                        shop__isnull=True,
                        user__isnull=True,
                    )
                    | Q(
                        owner_kind="shop",
                        supplier__isnull=True,
                        shop__isnull=False,
                        user__isnull=True,
                    )
                    | Q(
                        owner_kind="sharer",
                        supplier__isnull=True,
                        shop__isnull=True,
                        user__isnull=False,
                    )
                    | Q(
                        owner_kind="platform",
                        supplier__isnull=True,
                        shop__isnull=True,
                        user__isnull=True,
                    )
                ),
                name="ledger_account_party_matches_owner_kind",
            ),
        ]
        indexes = [models.Index(fields=["owner_key", "kind"], name="ledger_account_owner")]

    def __str__(self) -> str:
        return f"{self.owner_key}/{self.kind} {self.currency}"


class JournalEntry(AppendOnlyModel):
    """One balanced movement of money (分录): its postings sum to zero."""

    class Kind(models.TextChoices):
        CAPTURE = "capture", _("payment captured")
        SETTLEMENT = "settlement", _("settlement: pending to available")
        REFUND = "refund", _("refund")
        WITHDRAWAL = "withdrawal", _("withdrawal requested")
        WITHDRAWAL_REJECTED = "withdrawal_rejected", _("withdrawal rejected")
        PAYOUT = "payout", _("withdrawal paid out")
        LATE_PAYMENT = "late_payment", _("payment after the order was closed")
        LATE_PAYMENT_REFUND = "late_payment_refund", _("late payment refunded")
        HOLD = "hold", _("commission held for review")
        HOLD_RELEASED = "hold_released", _("held commission released")
        HOLD_VOIDED = "hold_voided", _("held commission voided to the margin")
        DEPOSIT = "deposit", _("pre-sale deposit received")
        DEPOSIT_APPLIED = "deposit_applied", _("pre-sale deposit applied to the payment")
        DEPOSIT_REFUND = "deposit_refund", _("pre-sale deposit refunded")

    kind = models.CharField(max_length=24, choices=Kind.choices)
    memo = models.CharField(max_length=200, blank=True, default="")
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
    )
    refund = models.ForeignKey(
        "orders.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
    )
    payment = models.ForeignKey(
        "payments.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
    )
    withdrawal = models.ForeignKey(
        "ledger.Withdrawal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"
        constraints = [
            # The database, not only the service, refuses recording the same
            # capture, refund or late payment twice.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="capture"), name="ledger_one_capture_per_order"
            ),
            models.UniqueConstraint(
                fields=["refund"], condition=Q(kind="refund"), name="ledger_one_entry_per_refund"
            ),
            models.UniqueConstraint(
                fields=["payment", "kind"],
                condition=Q(
                    kind__in=[
                        "late_payment",
                        "late_payment_refund",
                        "deposit",
                        "deposit_applied",
                        "deposit_refund",
                    ]
                ),
                name="ledger_one_late_payment_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"


class Posting(AppendOnlyModel):
    """One line of an entry: `amount` is signed, debit positive, credit negative.
    `line` names the order line a posting belongs to, so what is still pending
    for a line is the sum of its postings."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField()
    line = models.ForeignKey(
        "orders.OrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_posting_nonzero")
        ]
        indexes = [
            models.Index(fields=["account", "-id"], name="ledger_posting_account"),
            models.Index(fields=["line", "account"], name="ledger_posting_line"),
        ]


class LineSettlement(models.Model):
    """An order line whose pending money has moved to available: at most once."""

    line = models.OneToOneField(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="settlement"
    )
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    settled_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class Withdrawal(models.Model):
    """A party taking its available money out (提现): held at request, paid out
    once an operator approves, returned to available if rejected."""

    class Wallet(models.TextChoices):
        SHARER = "sharer", _("sharer commission")
        SHOP = "shop", _("shop margin")
        SUPPLIER = "supplier", _("supplier payable")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved")
        PAID_OUT = "paid_out", _("paid out")
        REJECTED = "rejected", _("rejected")

    TRANSITIONS: ClassVar[Transitions] = {
        Status.REQUESTED: {Status.APPROVED, Status.REJECTED},
        Status.APPROVED: {Status.PAID_OUT},
        Status.PAID_OUT: set(),
        Status.REJECTED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {
        Status.APPROVED: "decided_at",
        Status.REJECTED: "decided_at",
        Status.PAID_OUT: "paid_out_at",
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals"
    )
    wallet = models.CharField(max_length=10, choices=Wallet.choices, default=Wallet.SHARER)
    owner_key = models.CharField(max_length=40, db_index=True)
    # What is held and paid out. A debt in another of the person's wallets is
    # repaid first from what they asked for: `debt_repaid`, in the same entry.
    amount = models.PositiveBigIntegerField()
    debt_repaid = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    paid_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=1), name="withdrawal_positive")
        ]
        indexes = [models.Index(fields=["status", "id"], name="withdrawal_status")]

    def __str__(self) -> str:
        return f"withdrawal #{self.pk} {self.amount} {self.status}"


class WithdrawalStatusChange(StatusChange):
    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.CASCADE, related_name="history")


class CommissionHold(models.Model):
    """A line's sharer commission held while a fraud flag on it is open (佣金冻结).

    The money itself sits in the sharer's `held` account (postings carry the
    line), so what is held is always the sum of those postings. `released`
    gives it back to the sharer (pending, or available when the line has
    settled); `voided` moves it to the shop's margin. A line is held at most
    once; a refund of a held line reverses the commission out of `held`, of a
    voided one out of the margin that received it."""

    class Status(models.TextChoices):
        HELD = "held", _("held")
        RELEASED = "released", _("released")
        VOIDED = "voided", _("voided")

    TRANSITIONS: ClassVar[Transitions] = {
        Status.HELD: {Status.RELEASED, Status.VOIDED},
        Status.RELEASED: set(),
        Status.VOIDED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {
        Status.RELEASED: "resolved_at",
        Status.VOIDED: "resolved_at",
    }

    line = models.OneToOneField(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="commission_hold"
    )
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "order"], name="hold_status_order")]

    def __str__(self) -> str:
        return f"hold #{self.pk} of line #{self.line_id} {self.status}"


class CommissionHoldStatusChange(StatusChange):
    hold = models.ForeignKey(CommissionHold, on_delete=models.CASCADE, related_name="history")
