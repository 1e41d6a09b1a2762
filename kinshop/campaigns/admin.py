"""The operator's views of campaigns: group buys, their groups with seats and
paid members, flash sales with units sold. Read only: campaigns change through
their services."""

from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from kinshop.campaigns.models import (
    FlashSale,
    Group,
    GroupBuy,
    GroupBuyStatusChange,
    GroupStatusChange,
    Presale,
)
from kinshop.core.admin_columns import ReadOnlyAdminMixin, StatusHistoryInline, money_column
from kinshop.core.converters import MAX_ID


class GroupBuyHistory(StatusHistoryInline):
    model = GroupBuyStatusChange


class GroupHistory(StatusHistoryInline):
    model = GroupStatusChange


@admin.register(GroupBuy)
class GroupBuyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "shop",
        "sku",
        money_column("group_price", _("group price"), currency_field=None),
        "group_size",
        "hours",
        "ends_at",
        "status",
    )
    list_filter = ("status",)
    list_select_related = ("shop", "sku", "sku__product")
    search_fields = ("shop__handle", "sku__code")
    inlines = (GroupBuyHistory,)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "group_buy", "shop", "leader", "status", "seats", "paid", "expires_at")
    list_filter = ("status",)
    list_select_related = ("group_buy", "shop", "leader", "allotment")
    search_fields = ("shop__handle", "leader__username")
    inlines = (GroupHistory,)

    def get_object(self, request, object_id, from_field=None):
        # The primary key is the allotment's: a number no column can hold is
        # no group (a 404), not a database error.
        if not re.fullmatch(r"[0-9]{1,19}", str(object_id)) or int(object_id) > MAX_ID:
            return None
        return super().get_object(request, object_id, from_field)

    @admin.display(description=_("seats taken"))
    def seats(self, group: Group) -> str:
        return f"{group.allotment.taken}/{group.allotment.limit}"

    @admin.display(description=_("paid members"))
    def paid(self, group: Group) -> int:
        return group.allotment.paid


@admin.register(FlashSale)
class FlashSaleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "shop",
        "sku",
        money_column("price", _("price"), currency_field=None),
        "units",
        "sold",
        "per_buyer_limit",
        "starts_at",
        "ends_at",
        "ended_at",
    )
    list_select_related = ("shop", "sku", "sku__product", "allotment")
    search_fields = ("shop__handle", "sku__code")

    @admin.display(description=_("sold"))
    def sold(self, sale: FlashSale) -> int:
        return sale.allotment.taken


@admin.register(Presale)
class PresaleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Pre-sales with their orders by stage: deposit unpaid, awaiting the
    balance, fully paid (or beyond), cancelled."""

    list_display = (
        "id",
        "shop",
        "sku",
        money_column("price", _("price"), currency_field=None),
        money_column("deposit", _("deposit"), currency_field=None),
        "balance_starts_at",
        "balance_ends_at",
        "ships_on",
        "awaiting_deposit",
        "awaiting_balance",
        "fully_paid",
        "cancelled",
    )
    list_select_related = ("shop", "sku", "sku__product")
    search_fields = ("shop__handle", "sku__code")
    date_hierarchy = "balance_ends_at"

    def get_queryset(self, request):
        status = "orders__order__status"
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_awaiting_deposit=Count("orders", filter=Q(**{status: "pending_payment"})),
                n_awaiting_balance=Count("orders", filter=Q(**{status: "awaiting_balance"})),
                n_fully_paid=Count(
                    "orders",
                    filter=Q(**{f"{status}__in": ["paid", "shipped", "completed", "refunded"]}),
                ),
                n_cancelled=Count("orders", filter=Q(**{status: "cancelled"})),
            )
        )

    @admin.display(description=_("awaiting deposit"))
    def awaiting_deposit(self, presale) -> int:
        return presale.n_awaiting_deposit

    @admin.display(description=_("awaiting balance"))
    def awaiting_balance(self, presale) -> int:
        return presale.n_awaiting_balance

    @admin.display(description=_("fully paid"))
    def fully_paid(self, presale) -> int:
        return presale.n_fully_paid

    @admin.display(description=_("cancelled"))
    def cancelled(self, presale) -> int:
        return presale.n_cancelled
