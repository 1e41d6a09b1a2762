"""What the operator's console shares across apps: money columns, read-only
views of facts, and the lifecycle history of any object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from kinshop.core.money import format_money

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def money_column(field: str, label: StrOrPromise, currency_field: str | None = "currency"):
    """An admin column that shows fen as money (¥20.00), sortable by the field."""

    def column(obj):
        currency = getattr(obj, currency_field, "CNY") if currency_field else "CNY"
        return format_money(getattr(obj, field), currency or "CNY")

    column.short_description = label  # type: ignore[attr-defined]
    column.admin_order_field = field  # type: ignore[attr-defined]
    column.__name__ = f"{field}_money"
    return column


class ReadOnlyAdminMixin:
    """Facts the operator reads and never edits (journal rows, provider events,
    history)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StatusHistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    """An object's lifecycle, read only: each change with who, when and why.
    Subclasses name the concrete `StatusChange` model."""

    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    ordering = ("at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")
