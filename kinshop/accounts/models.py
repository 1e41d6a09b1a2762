from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Anyone who signs in. Every user is a consumer and may share (分享者);
    other roles follow from what the user *is*: a shop's keeper, a supplier's
    staff, or platform staff (the operator). There is no stored 'level'."""

    phone = models.CharField(_("phone"), max_length=20, blank=True, default="", db_index=True)
    display_name = models.CharField(_("display name"), max_length=60, blank=True, default="")

    @property
    def public_name(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for apps and integrations. Only its SHA-256 is stored:
    a leaked database does not leak usable tokens. A token stops working when
    it is revoked, when its user's password changes (`password_fingerprint`
    no longer matches) and after `KINSHOP_TOKEN_IDLE_DAYS` without use."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    name = models.CharField(max_length=60, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    password_fingerprint = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class IdentityVerification(models.Model):
    """Real-name verification (实名认证), needed before any withdrawal.

    The full ID number is never stored: a keyed hash (to spot one identity
    behind several accounts) and a masked form (to show the person) are enough.
    One ID number verifies one account: the hash is unique.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="identity")
    real_name = models.CharField(_("real name"), max_length=60)
    id_number_masked = models.CharField(max_length=24)
    id_number_hash = models.CharField(max_length=64, unique=True)
    verified_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.real_name} {self.id_number_masked}"


class ShippingPhone(models.Model):
    """A phone number a user has had an order delivered to. Two accounts that
    ship to the same phone are one person for commission (DESIGN §3, linked
    identities); orders record the phone here when an order is placed, so the
    apps below orders can compare people without reading orders."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="shipping_phones")
    phone = models.CharField(max_length=20)
    first_used_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "phone"], name="shipping_phone_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.phone}"
