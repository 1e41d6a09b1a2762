"""The operator's views of campaigns: group buys, their groups with seats and
paid members, flash sales with units sold. Read only: campaigns change through
their services."""

from __future__ import annotations

import re

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kinshop.campaigns.models import (
    FlashSale,
    Group,
    GroupBuy,
    GroupBuyStatusChange,
    GroupStatusChange,
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
    )
    list_select_related = ("shop", "sku", "sku__product", "allotment")
    search_fields = ("shop__handle", "sku__code")

    @admin.display(description=_("sold"))
    def sold(self, sale: FlashSale) -> int:
        return sale.allotment.taken
