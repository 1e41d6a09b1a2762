from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kinshop.core.admin_columns import ReadOnlyAdminMixin, StatusHistoryInline, money_column
from kinshop.core.errors import DomainError
from kinshop.orders import services as orders
from kinshop.orders.admin import RefundLineInline, RefundStatusChangeInline
from kinshop.orders.models import Refund
from kinshop.payments import services
from kinshop.payments.models import (
    Payment,
    PaymentStatusChange,
    ProviderRefund,
    ProviderRefundStatusChange,
    WebhookEvent,
)


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments are facts from providers: the operator reads them, never edits."""


class PaymentStatusChangeInline(StatusHistoryInline):
    model = PaymentStatusChange


class ProviderRefundStatusChangeInline(StatusHistoryInline):
    model = ProviderRefundStatusChange


class ProviderRefundPartInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The provider refunds that carry an after-sales refund: one per payment it
    goes back through (a pre-sale's balance, then its deposit)."""

    model = ProviderRefund
    extra = 0
    can_delete = False
    fields = ("reference", "payment", "amount", "status", "attempts", "last_error", "succeeded_at")
    readonly_fields = fields
    ordering = ("id",)
    verbose_name = _("provider refund")
    verbose_name_plural = _("provider refunds (one per payment)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "order",
        "provider",
        "purpose",
        money_column("amount", _("amount")),
        "status",
        "created_at",
        "captured_at",
    )
    list_filter = ("provider", "purpose", "status")
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
        "attempts",
        "next_attempt_at",
        "last_error",
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


# Refunds are orders' records, decided here: approving one sends money back
# through the provider, which payments orchestrates.
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
                        orders.reject_refund(
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
    inlines = [RefundLineInline, ProviderRefundPartInline, RefundStatusChangeInline]
    actions = [_decide(True), _decide(False)]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
