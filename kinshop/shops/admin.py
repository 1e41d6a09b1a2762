from django.contrib import admin

from kinshop.shops.models import Selection, SelectionPrice, Shop


class SelectionInline(admin.TabularInline):
    model = Selection
    extra = 0
    raw_id_fields = ("product",)


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("handle", "name", "owner", "is_active", "created_at")
    search_fields = ("handle", "name", "owner__username")
    list_filter = ("is_active",)
    raw_id_fields = ("owner",)
    inlines = [SelectionInline]


@admin.register(SelectionPrice)
class SelectionPriceAdmin(admin.ModelAdmin):
    list_display = ("shop", "sku", "retail_price")
    list_select_related = ("shop", "sku", "sku__product")
    search_fields = ("shop__handle", "sku__code")
