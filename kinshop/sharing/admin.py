from django.contrib import admin

from kinshop.sharing.models import Binding, Click, ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("code", "sharer", "shop", "product", "target", "created_at")
    list_select_related = ("sharer", "shop", "product")
    search_fields = ("code", "sharer__username", "shop__handle")
    list_filter = ("target",)
    raw_id_fields = ("sharer", "shop", "product")
    readonly_fields = ("code", "created_at")


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    """Clicks are evidence behind commissions: nobody edits or deletes them."""

    list_display = ("id", "link", "sharer", "viewer", "shop", "channel", "at")
    list_select_related = ("link", "sharer", "viewer", "shop")
    search_fields = ("link__code", "sharer__username", "viewer__username", "visitor_key")
    list_filter = ("channel",)
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Binding)
class BindingAdmin(admin.ModelAdmin):
    list_display = ("buyer", "shop", "sharer", "bound_at", "expires_at")
    list_select_related = ("buyer", "shop", "sharer")
    search_fields = ("buyer__username", "sharer__username", "shop__handle")
    raw_id_fields = ("buyer", "shop", "sharer", "click")
