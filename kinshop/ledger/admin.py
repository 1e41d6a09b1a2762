"""The operator's view of the ledger: read only. Money moves only through the
services (withdrawal decisions are admin actions that call them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from kinshop.core.admin_columns import ReadOnlyAdminMixin, StatusHistoryInline, money_column
from kinshop.core.errors import DomainError
from kinshop.ledger import services
from kinshop.ledger.models import (
    Account,
    CommissionHold,
    CommissionHoldStatusChange,
    JournalEntry,
    LineSettlement,
    Posting,
    Withdrawal,
    WithdrawalStatusChange,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class PostingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Posting
    extra = 0
    fields = ("account", "amount", "line")
    readonly_fields = fields


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "memo", "order", "refund", "withdrawal", "created_at")
    list_filter = ("kind",)
    search_fields = ("memo",)
    date_hierarchy = "created_at"
    inlines = [PostingInline]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "owner_key", "kind", "currency", "balance")
    list_filter = ("owner_kind", "kind", "currency")
    search_fields = ("owner_key",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_balance=Sum("postings__amount"))

    @admin.display(description=_("balance (debit +, credit −)"), ordering="_balance")
    def balance(self, account):
        from kinshop.core.money import format_money

        return format_money(account._balance or 0, account.currency)


@admin.register(LineSettlement)
class LineSettlementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("line", "order", "entry", "settled_at")


class WithdrawalStatusChangeInline(StatusHistoryInline):
    model = WithdrawalStatusChange


def _decision_action(service, name: str, label: StrOrPromise):
    def action(modeladmin, request, queryset):
        done = 0
        for withdrawal in queryset.order_by("pk"):
            try:
                with transaction.atomic():
                    service(withdrawal=withdrawal, actor=request.user, reason="admin action")
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{withdrawal}: {error.message}", messages.WARNING)
        if done:
            modeladmin.message_user(
                request, _("%(count)d withdrawal(s) updated.") % {"count": done}
            )

    action.__name__ = name
    # Django's admin reads this attribute off the function; the stubs can't know.
    action.short_description = label  # type: ignore[attr-defined]
    return action


@admin.register(Withdrawal)
class WithdrawalAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "wallet",
        money_column("amount", _("amount")),
        "status",
        "created_at",
    )
    list_filter = ("status", "wallet")
    search_fields = ("user__username", "owner_key")
    inlines = [WithdrawalStatusChangeInline]
    actions = [
        _decision_action(services.approve_withdrawal, "approve", _("Approve and pay out")),
        _decision_action(services.reject_withdrawal, "reject", _("Reject (return to available)")),
    ]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewing is enough to run the actions; decisions go only through them.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class CommissionHoldStatusChangeInline(StatusHistoryInline):
    model = CommissionHoldStatusChange


@admin.register(CommissionHold)
class CommissionHoldAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Held commission: released or voided only by resolving its fraud flag."""

    list_display = ("id", "line", "order", "status", "reason", "created_at", "resolved_at")
    list_filter = ("status",)
    inlines = [CommissionHoldStatusChangeInline]
