"""A shop's own offers on one SKU: group buys (拼团) and flash sales (秒杀).

Their limited units live in `orders.Allotment`, where orders (below campaigns)
takes and gives them back and a member's payment counts towards a group; the
rows here are the offers as the shop made them and the groups' lifecycles."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinshop.core.models import StatusChange

if TYPE_CHECKING:
    from kinshop.core.statemachine import StatusTimestamps, Transitions


class GroupBuy(models.Model):
    """A group buy (拼团): the SKU at `group_price` for groups of `group_size`
    members who all pay within `hours` of the group's start; the leader may pay
    `leader_price`. New groups start until `ends_at` or until the shop ends it."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        ENDED = "ended", _("ended")

    TRANSITIONS: ClassVar[Transitions] = {Status.ACTIVE: {Status.ENDED}, Status.ENDED: set()}
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {Status.ENDED: "ended_at"}

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="group_buys")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    group_price = models.PositiveBigIntegerField()
    leader_price = models.PositiveBigIntegerField(null=True, blank=True)
    group_size = models.PositiveSmallIntegerField()
    hours = models.PositiveSmallIntegerField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(group_size__gte=2, group_size__lte=50), name="group_size_2_to_50"
            ),
            models.CheckConstraint(condition=Q(hours__gte=1, hours__lte=72), name="group_hours"),
        ]

    def __str__(self) -> str:
        return f"group buy #{self.pk}"


class Group(models.Model):
    """One group of a group buy, started by its leader. It succeeds only when
    `group_size` members have paid (no simulated members, ever) and fails when
    its time runs out first. Its seats and paid members are counted in its
    allotment (same primary key), which the payment decides on."""

    class Status(models.TextChoices):
        FORMING = "forming", _("forming")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    TRANSITIONS: ClassVar[Transitions] = {
        Status.FORMING: {Status.SUCCEEDED, Status.FAILED},
        Status.SUCCEEDED: set(),
        Status.FAILED: set(),
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {
        Status.SUCCEEDED: "decided_at",
        Status.FAILED: "decided_at",
    }

    allotment = models.OneToOneField(
        "orders.Allotment", primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    group_buy = models.ForeignKey(GroupBuy, on_delete=models.PROTECT, related_name="groups")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FORMING)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"], name="group_status_expiry")]

    def __str__(self) -> str:
        return f"group #{self.pk}"


class FlashSale(models.Model):
    """A flash sale (秒杀): `units` of the SKU at `price` between `starts_at` and
    `ends_at`, at most `per_buyer_limit` per buyer (linked accounts counted
    together), each order to be paid within `payment_minutes`. The units are
    counted in its allotment: never more sold than offered. Its shop may end it
    early (`ended_at`): from then it is over, whatever the clock says."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="flash_sales")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    allotment = models.OneToOneField("orders.Allotment", on_delete=models.PROTECT, related_name="+")
    price = models.PositiveBigIntegerField()
    units = models.PositiveIntegerField()
    per_buyer_limit = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    payment_minutes = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    # The live room the deal runs in, as its caller (the live app, above
    # campaigns) checked and recorded it; campaigns never looks at rooms.
    live_room_id = models.PositiveBigIntegerField(null=True, blank=True)
    # When its shop ended it before `ends_at` (null: it runs its window).
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["live_room_id"], name="flash_sale_live_room")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="flash_sale_window"
            )
        ]

    def __str__(self) -> str:
        return f"flash sale #{self.pk}"


class Presale(models.Model):
    """A pre-sale (预售): the SKU at `price`, bought now for a `deposit` per
    unit, the rest paid between `balance_starts_at` and `balance_ends_at`,
    shipped on `ships_on`. Its orders carry these facts themselves, so that
    payments can tell deposit from balance without reading this row."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="presales")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    price = models.PositiveBigIntegerField()
    deposit = models.PositiveBigIntegerField()
    balance_starts_at = models.DateTimeField()
    balance_ends_at = models.DateTimeField()
    ships_on = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deposit__gte=1, deposit__lte=models.F("price")),
                name="presale_deposit_within_price",
            ),
            models.CheckConstraint(
                condition=Q(balance_ends_at__gt=models.F("balance_starts_at")),
                name="presale_balance_window",
            ),
        ]

    def __str__(self) -> str:
        return f"pre-sale #{self.pk}"


class PresaleOrder(models.Model):
    """Which pre-sale an order was bought in (orders, below campaigns, does not
    know the pre-sale: the order carries its terms instead)."""

    presale = models.ForeignKey(Presale, on_delete=models.PROTECT, related_name="orders")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")


class GroupBuyStatusChange(StatusChange):
    group_buy = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="history")


class GroupStatusChange(StatusChange):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="history")
