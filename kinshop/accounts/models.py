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


class Identifier(models.Model):
    """Something that identifies a person across accounts (DESIGN.md section 3,
    linked identities): a phone (the account's, or one an order shipped to), a
    device (the first-party device cookie or an app's X-Device-Id) or a payer
    account reported by a payment provider. Two accounts with one identifier in
    common are one person for commission. Values are canonical
    (`rules.identifiers`), so equality in SQL is the rule's equality. Recorded
    by the apps that see them (orders, payments, sign-in, sharing), so the apps
    below them compare people without reading orders or payments."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("phone")
        DEVICE = "device", _("device")
        PAYER = "payer", _("payment account")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=80)
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "value"], name="identifier_once")
        ]
        indexes = [models.Index(fields=["kind", "value"], name="identifier_kind_value")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} {self.value}"
