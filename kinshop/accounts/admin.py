from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from kinshop.accounts.models import ApiToken, Identifier, IdentityVerification, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "email", "phone", "is_staff", "date_joined")
    search_fields = ("username", "display_name", "email", "phone")
    # The stubs allow `fieldsets = None`; Django's UserAdmin always sets it.
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Kinshop", {"fields": ("display_name", "phone")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "key_hash", "created_at", "last_used_at")
    search_fields = ("user__username", "prefix")

    def has_add_permission(self, request):
        return False


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(admin.ModelAdmin):
    list_display = ("user", "real_name", "id_number_masked", "verified_at")
    readonly_fields = ("user", "real_name", "id_number_masked", "id_number_hash", "verified_at")
    search_fields = ("user__username", "real_name")

    def has_add_permission(self, request):
        return False


@admin.register(Identifier)
class IdentifierAdmin(admin.ModelAdmin):
    """What links accounts into one person (linked identities): the operator
    looks up who else has a phone, device or payer account."""

    list_display = ("user", "kind", "value", "first_seen_at")
    list_filter = ("kind",)
    search_fields = ("=value", "user__username")
    readonly_fields = ("user", "kind", "value", "first_seen_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
