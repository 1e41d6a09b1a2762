from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kinshop.admin_site import StatusHistoryInline, money_column
from kinshop.payments.models import (
    Payment,
    PaymentStatusChange,
    ProviderRefund,
    ProviderRefundStatusChange,
    WebhookEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Payments are facts from providers: the operator reads them, never edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentStatusChangeInline(StatusHistoryInline):
    model = PaymentStatusChange


class ProviderRefundStatusChangeInline(StatusHistoryInline):
    model = ProviderRefundStatusChange


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "order",
        "provider",
        money_column("amount", _("amount")),
        "status",
        "created_at",
        "captured_at",
    )
    list_filter = ("provider", "status")
    search_fields = ("reference", "provider_transaction_id", "order__id")
    inlines = [PaymentStatusChangeInline]


@admin.register(ProviderRefund)
class ProviderRefundAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "payment",
        "refund",
        money_column("amount", _("amount"), currency_field=None),
        "status",
        "created_at",
        "succeeded_at",
    )
    list_filter = ("status",)
    search_fields = ("reference", "provider_refund_id")
    inlines = [ProviderRefundStatusChangeInline]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("provider", "event_id", "event_type", "received_at", "processed_at")
    list_filter = ("provider", "event_type")
    search_fields = ("event_id",)
