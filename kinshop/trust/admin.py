"""The operator's trust console: the fraud queue with its evidence and one-step
release/void, complaint arbitration, reviews (read only: no review is ever
created here). Decisions go through the services, as admin actions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kinshop.core.admin_columns import ReadOnlyAdminMixin, StatusHistoryInline
from kinshop.core.errors import DomainError
from kinshop.trust import services
from kinshop.trust.models import (
    Complaint,
    ComplaintMessage,
    ComplaintStatusChange,
    FraudFlag,
    FraudFlagStatusChange,
    Penalty,
    Review,
    ReviewReply,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _action(run, name: str, label: StrOrPromise, what: str):
    def action(modeladmin, request, queryset):
        done = 0
        for obj in queryset.order_by("pk"):
            try:
                with transaction.atomic():
                    run(request.user, obj)
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{obj}: {error.message}", messages.WARNING)
        if done:
            modeladmin.message_user(
                request, _("%(count)d %(what)s updated.") % {"count": done, "what": what}
            )

    action.__name__ = name
    action.short_description = label  # type: ignore[attr-defined]
    return action


class FraudFlagStatusChangeInline(StatusHistoryInline):
    model = FraudFlagStatusChange


@admin.register(FraudFlag)
class FraudFlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "status", "subject", "orders", "accounts", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("subject",)
    readonly_fields = (
        "kind",
        "subject",
        "status",
        "order_ids",
        "user_ids",
        "evidence_pretty",
        "note",
        "created_at",
        "resolved_at",
    )
    exclude = ("evidence", "lines")
    inlines = [FraudFlagStatusChangeInline]
    actions = [
        _action(
            lambda user, flag: services.resolve_fraud_flag(
                user=user, flag_id=flag.pk, decision="release", note="released in the admin"
            ),
            "release",
            _("Release: a false positive, the commission settles normally"),
            "flag(s)",
        ),
        _action(
            lambda user, flag: services.resolve_fraud_flag(
                user=user, flag_id=flag.pk, decision="void", note="voided in the admin"
            ),
            "void",
            _("Void: the commission goes to the shop's margin"),
            "flag(s)",
        ),
    ]

    @admin.display(description=_("orders"))
    def orders(self, flag):
        return ", ".join(f"#{order_id}" for order_id in flag.order_ids)

    @admin.display(description=_("accounts"))
    def accounts(self, flag):
        return ", ".join(f"#{user_id}" for user_id in flag.user_ids)

    @admin.display(description=_("evidence"))
    def evidence_pretty(self, flag):
        return format_html("<pre>{}</pre>", json.dumps(flag.evidence, indent=2, ensure_ascii=False))


class ComplaintMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ComplaintMessage
    extra = 0
    fields = ("role", "author", "text", "created_at")
    readonly_fields = fields


class ComplaintStatusChangeInline(StatusHistoryInline):
    model = ComplaintStatusChange


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "order", "reason", "status", "respond_by", "created_at")
    list_filter = ("status", "reason")
    search_fields = ("order__id",)
    readonly_fields = (
        "order",
        "buyer",
        "shop",
        "reason",
        "status",
        "respond_by",
        "refund",
        "penalty_points",
        "decision_note",
        "created_at",
        "decided_at",
    )
    inlines = [ComplaintMessageInline, ComplaintStatusChangeInline]
    actions = [
        _action(
            lambda user, complaint: services.decide_complaint(
                user=user,
                complaint_id=complaint.pk,
                upheld=False,
                note="dismissed by the operator",
            ),
            "dismiss",
            _("Dismiss"),
            "complaint(s)",
        ),
        _action(
            lambda user, complaint: services.decide_complaint(
                user=user,
                complaint_id=complaint.pk,
                upheld=True,
                note="upheld by the operator",
            ),
            "uphold",
            _("Uphold (no refund, no points; use the API for those)"),
            "complaint(s)",
        ),
    ]


@admin.register(Penalty)
class PenaltyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "supplier", "shop", "points", "complaint", "created_at")


class ReviewReplyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReviewReply
    extra = 0
    fields = ("role", "author", "text", "created_at")
    readonly_fields = fields


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only and no "add": a review exists only because a buyer wrote it."""

    list_display = ("id", "product", "rating", "author", "order", "created_at")
    list_filter = ("rating",)
    readonly_fields = ("order", "line", "product", "author", "rating", "text", "follow_up")
    exclude = ("supplier", "shop", "follow_up_at", "created_at")
    inlines = [ReviewReplyInline]
