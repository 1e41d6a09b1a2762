"""The operator's views of wholesale: tiers, holdings with their counts, offline
sales and returns. Facts are read only; the retail reach cards are on the index."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from kinshop.core.admin_columns import ReadOnlyAdminMixin, money_column
from kinshop.orders.models import Fulfilment, OrderLine, Refund
from kinshop.wholesale.models import Holding, OfflineSale, WholesaleReturn, WholesaleTier


@admin.register(WholesaleTier)
class WholesaleTierAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "sku",
        "supplier",
        "min_quantity",
        money_column("unit_price", _("unit price"), currency_field=None),
    )
    list_filter = ("supplier",)
    list_select_related = ("sku", "sku__product", "supplier")
    search_fields = ("sku__code", "sku__product__title")


def _units(queryset, field: str = "quantity") -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.order_by().values("shop_id").annotate(total=Sum(field)).values("total"),
            output_field=IntegerField(),
        ),
        0,
    )


@admin.register(Holding)
class HoldingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each (shop, SKU) with its units, counted from the facts in one query."""

    list_display = ("shop", "sku", "supplier", "bought", "sold_offline", "returned", "held")
    list_filter = ("supplier",)
    list_select_related = ("shop", "sku", "sku__product", "supplier")
    search_fields = ("shop__handle", "shop__name", "sku__code", "sku__product__title")

    def get_queryset(self, request):
        same = {"shop_id": OuterRef("shop_id"), "sku_id": OuterRef("sku_id")}
        bought = _units(
            OrderLine.objects.filter(
                is_wholesale=True, fulfilment__status=Fulfilment.Status.SHIPPED, **same
            )
        )
        sold = _units(OfflineSale.objects.filter(**same))
        returned = _units(
            WholesaleReturn.objects.filter(**same).exclude(
                refund__status__in=(Refund.Status.REJECTED, Refund.Status.FAILED)
            )
        )
        return (
            super()
            .get_queryset(request)
            .annotate(units_bought=bought, units_sold=sold, units_returned=returned)
        )

    @admin.display(description=_("bought"), ordering="units_bought")
    def bought(self, holding) -> int:
        return holding.units_bought

    @admin.display(description=_("sold offline"), ordering="units_sold")
    def sold_offline(self, holding) -> int:
        return holding.units_sold

    @admin.display(description=_("returned"), ordering="units_returned")
    def returned(self, holding) -> int:
        return holding.units_returned

    @admin.display(description=_("held"))
    def held(self, holding) -> int:
        return holding.units_bought - holding.units_sold - holding.units_returned


@admin.register(OfflineSale)
class OfflineSaleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "sold_at",
        "shop",
        "sku",
        "quantity",
        money_column("unit_price", _("unit price")),
        "recorded_by",
    )
    list_filter = ("supplier",)
    list_select_related = ("shop", "sku", "sku__product", "recorded_by")
    date_hierarchy = "sold_at"
    search_fields = ("shop__handle", "sku__code")


@admin.register(WholesaleReturn)
class WholesaleReturnAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "shop", "sku", "quantity", "refund")
    list_select_related = ("shop", "sku", "sku__product", "refund")
    search_fields = ("shop__handle", "sku__code")
