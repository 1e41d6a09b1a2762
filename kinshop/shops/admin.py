from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kinshop.core.errors import DomainError
from kinshop.shops import services
from kinshop.shops.models import Selection, SelectionPrice, Shop

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _suspension_action(*, is_suspended: bool, name: str, label: StrOrPromise):
    """Close shops to new orders or open them again, through the service (a
    suspension by penalty points is reversible by the operator, here)."""

    def action(modeladmin, request, queryset):
        done = 0
        for shop in queryset.order_by("pk"):
            try:
                with transaction.atomic():
                    services.set_shop_suspended(
                        shop=shop, is_suspended=is_suspended, actor=request.user
                    )
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{shop}: {error.message}", messages.WARNING)
        if done:
            modeladmin.message_user(request, _("%(count)d shop(s) updated.") % {"count": done})

    action.__name__ = name
    # Django's admin reads this attribute off the function; the stubs can't know.
    action.short_description = label  # type: ignore[attr-defined]
    return action


class SelectionInline(admin.TabularInline):
    model = Selection
    extra = 0
    raw_id_fields = ("product",)


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("handle", "name", "owner", "is_active", "is_suspended", "created_at")
    search_fields = ("handle", "name", "owner__username")
    list_filter = ("is_active", "is_suspended")
    raw_id_fields = ("owner",)
    # Suspension changes only through the actions below (the service bumps the
    # storefront's version, so no cached page keeps selling).
    readonly_fields = ("is_suspended",)
    inlines = [SelectionInline]

    # An operator's edits here (the header, what the shop sells) show on its
    # storefront at once, as a shopkeeper's do through the services.
    # Once per save, after the shop and its selections are written.
    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        services.storefront_changed(form.instance)

    actions = [
        _suspension_action(
            is_suspended=True, name="suspend", label=_("Suspend: close to new orders")
        ),
        _suspension_action(
            is_suspended=False, name="reopen", label=_("Reopen to new orders (lift a suspension)")
        ),
    ]


@admin.register(SelectionPrice)
class SelectionPriceAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        services.storefront_changed(obj.shop)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        services.storefront_changed(obj.shop)

    def delete_queryset(self, request, queryset) -> None:
        shops = list(Shop.objects.filter(pk__in=queryset.values("shop_id")))
        super().delete_queryset(request, queryset)
        for shop in shops:
            services.storefront_changed(shop)

    list_display = ("shop", "sku", "retail_price")
    list_select_related = ("shop", "sku", "sku__product")
    search_fields = ("shop__handle", "sku__code")
