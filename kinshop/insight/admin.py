"""The rollups, read only: what the insight pages read, for an operator to check."""

from __future__ import annotations

from django.contrib import admin

from kinshop.core.admin_columns import ReadOnlyAdminMixin
from kinshop.insight.models import BuyerDay, LinkDay, ShopDay, SupplierDay, TrafficDay


@admin.register(ShopDay)
class ShopDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "shop_id", "placed", "orders", "gmv", "units")
    list_filter = ("day",)
    search_fields = ("shop_id",)
    date_hierarchy = "day"
    ordering = ("-day", "shop_id")


@admin.register(TrafficDay)
class TrafficDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "shop_id", "views", "carts")
    date_hierarchy = "day"
    ordering = ("-day", "shop_id")


@admin.register(BuyerDay)
class BuyerDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "shop_id", "buyer_id", "orders", "gmv")
    date_hierarchy = "day"
    ordering = ("-day", "shop_id", "buyer_id")


@admin.register(LinkDay)
class LinkDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "day",
        "link_id",
        "sharer_id",
        "shop_id",
        "channel",
        "clicks",
        "orders",
        "gmv",
        "commission",
    )
    list_filter = ("channel",)
    date_hierarchy = "day"
    ordering = ("-day", "link_id")


@admin.register(SupplierDay)
class SupplierDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "supplier_id", "orders", "gmv", "units")
    date_hierarchy = "day"
    ordering = ("-day", "supplier_id")
