from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kinshop.core.admin_columns import StatusHistoryInline, money_column
from kinshop.orders.models import (
    Fulfilment,
    Order,
    OrderLine,
    OrderStatusChange,
    RefundLine,
    RefundStatusChange,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "title",
        "sku_name",
        "quantity",
        "unit_price",
        "line_total",
        "unit_supply_price",
        "commission_rate_bp",
        "platform_fee_bp",
        "commission_beneficiary",
        "attribution_policy",
        "attribution_click",
        "commission_refusal",
        "attribution_note",
        "refunded_amount",
    )
    readonly_fields = fields


class FulfilmentInline(ReadOnlyInline):
    model = Fulfilment
    fields = ("supplier", "status", "carrier", "tracking_no", "shipped_at")
    readonly_fields = fields


class OrderStatusChangeInline(StatusHistoryInline):
    model = OrderStatusChange


class RefundStatusChangeInline(StatusHistoryInline):
    model = RefundStatusChange


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders change only through their lifecycle (the services), never by hand."""

    list_display = (
        "id",
        "shop",
        "buyer",
        "status",
        money_column("total", _("total")),
        money_column("refunded_amount", _("refunded")),
        "created_at",
        "paid_at",
    )
    list_filter = ("status",)
    search_fields = ("id", "buyer__username", "shop__handle", "recipient_phone")
    list_select_related = ("shop", "buyer")
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, FulfilmentInline, OrderStatusChangeInline]
    readonly_fields = [field.name for field in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = ("line", "amount")
    readonly_fields = fields
