from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db import transaction
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kinshop.catalog import services
from kinshop.catalog.models import (
    SKU,
    Product,
    ProductImage,
    Supplier,
    SupplierDocument,
    SupplierMembership,
    SupplierStatusChange,
)
from kinshop.core.admin_columns import StatusHistoryInline
from kinshop.core.errors import DomainError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SupplierStatusChangeInline(StatusHistoryInline):
    model = SupplierStatusChange


class SupplierMembershipInline(admin.TabularInline):
    model = SupplierMembership
    extra = 0
    raw_id_fields = ("user",)


def _transition_action(target: str, label: StrOrPromise):
    def action(modeladmin, request, queryset):
        done = 0
        for supplier in queryset:
            try:
                with transaction.atomic():
                    services.change_supplier_status(
                        supplier=supplier, to=target, actor=request.user, reason="admin action"
                    )
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{supplier}: {error.message}", messages.WARNING)
        if done:
            modeladmin.message_user(request, _("%(count)d supplier(s) updated.") % {"count": done})

    action.__name__ = f"mark_{target}"
    # Django's admin reads this attribute off the function; the stubs can't know.
    action.short_description = label  # type: ignore[attr-defined]
    return action


class SupplierDocumentInline(admin.TabularInline):
    """The supplier's licence and brand authorisations, for the operator only:
    each opens through the admin, never from a public URL."""

    model = SupplierDocument
    extra = 0
    fields = ("kind", "original_name", "open_link", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("document"))
    def open_link(self, document):
        url = reverse("admin:catalog_supplier_document", args=[document.pk])
        return format_html('<a href="{}">{}</a>', url, _("open file"))


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "license_no", "status", "documents_count", "verified_at", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "license_no")
    readonly_fields = ("status", "verified_at", "created_at")
    inlines = [SupplierDocumentInline, SupplierMembershipInline, SupplierStatusChangeInline]
    actions = [
        _transition_action(Supplier.Status.VERIFIED, _("Verify selected suppliers")),
        _transition_action(Supplier.Status.REJECTED, _("Reject selected suppliers")),
        _transition_action(
            Supplier.Status.SUSPENDED,
            _("Withdraw verification (suspend): products leave the market"),
        ),
    ]

    @admin.display(description=_("documents"))
    def documents_count(self, supplier):
        return supplier.documents.count()

    def get_urls(self):
        return [
            path(
                "document/<int:document_id>/",
                self.admin_site.admin_view(self.open_document),
                name="catalog_supplier_document",
            ),
            *super().get_urls(),
        ]

    def open_document(self, request, document_id: int):
        """Stream a private document to an operator allowed to view suppliers."""
        if not self.has_view_permission(request):
            raise Http404
        document = SupplierDocument.objects.filter(pk=document_id).first()
        if document is None:
            raise Http404
        return FileResponse(
            document.file.open("rb"), as_attachment=True, filename=document.original_name
        )


class SKUInline(admin.TabularInline):
    model = SKU
    extra = 0
    fields = (
        "code",
        "name",
        "supply_price",
        "retail_min",
        "retail_max",
        "suggested_retail_price",
        "stock",
    )
    readonly_fields = ("stock",)


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ("image", "position")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("title", "supplier", "commission_rate_bp", "is_active", "created_at")
    list_filter = ("is_active", "supplier")
    search_fields = ("title", "supplier__name")
    list_select_related = ("supplier",)
    inlines = [SKUInline, ProductImageInline]

    # An operator's edits (the product, its SKUs, its images) show on every
    # storefront at once, as a supplier's do through the services.
    # Once per save, after the product and all its inlines are written.
    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        services.products_changed([form.instance.pk])


@admin.register(SKU)
class SKUAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "product", "supply_price", "retail_min", "retail_max", "stock")
    search_fields = ("code", "name", "product__title")
    list_select_related = ("product",)
    readonly_fields = ("stock",)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        services.products_changed([obj.product_id])
