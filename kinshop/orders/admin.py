from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kinshop.admin_site import StatusHistoryInline, money_column
from kinshop.core.errors import DomainError
from kinshop.orders import services
from kinshop.orders.models import (
    Fulfilment,
    Order,
    OrderLine,
    OrderStatusChange,
    Refund,
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


def _decide(approve: bool):
    def action(modeladmin, request, queryset):
        done = 0
        for refund in queryset:
            try:
                with transaction.atomic():
                    if approve:
                        services.approve_refund(
                            user=request.user, refund_id=refund.pk, note="operator"
                        )
                    else:
                        services.reject_refund(
                            user=request.user, refund_id=refund.pk, note="operator"
                        )
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"#{refund.pk}: {error.message}", messages.WARNING)
        if done:
            modeladmin.message_user(request, _("%(count)d refund(s) decided.") % {"count": done})

    action.__name__ = "approve_refunds" if approve else "reject_refunds"
    label = _("Approve selected refunds") if approve else _("Reject selected refunds")
    # Django's admin reads this attribute off the function; the stubs can't know.
    action.short_description = label  # type: ignore[attr-defined]
    return action


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "order",
        "supplier",
        money_column("amount", _("amount"), currency_field=None),
        "status",
        "requested_by",
        "created_at",
        "decided_by",
    )
    list_filter = ("status",)
    search_fields = ("order__id", "requested_by__username", "reason")
    list_select_related = ("order", "supplier", "requested_by", "decided_by")
    readonly_fields = [field.name for field in Refund._meta.fields]
    inlines = [RefundLineInline, RefundStatusChangeInline]
    actions = [_decide(True), _decide(False)]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
