from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kinshop.core.models import StatusChange

if TYPE_CHECKING:
    from kinshop.core.statemachine import StatusTimestamps, Transitions


class Supplier(models.Model):
    """A verified business (供应商/品牌方) that lists products, sets supply prices,
    the retail band (控价) and the commission rate, and ships directly to
    consumers (一件代发)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")
        SUSPENDED = "suspended", _("suspended")

    TRANSITIONS: ClassVar[Transitions] = {
        Status.PENDING: {Status.VERIFIED, Status.REJECTED},
        Status.REJECTED: {Status.PENDING},
        Status.VERIFIED: {Status.SUSPENDED},
        Status.SUSPENDED: {Status.VERIFIED},
    }
    STATUS_TIMESTAMPS: ClassVar[StatusTimestamps] = {Status.VERIFIED: "verified_at"}

    name = models.CharField(_("name"), max_length=120)
    license_no = models.CharField(_("business licence number"), max_length=60)
    description = models.TextField(_("description"), blank=True, default="")
    brand_authorisation = models.CharField(
        _("brand authorisation"), max_length=200, blank=True, default=""
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED


class SupplierStatusChange(StatusChange):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="history")


def _private_storage():
    from kinshop.core.storage import private_storage

    return private_storage


class SupplierDocument(models.Model):
    """A document behind a supplier's verification (资质): its business licence
    or a brand authorisation. Stored privately: only the operator sees it, in
    the admin; the public sees only the verified badge."""

    class Kind(models.TextChoices):
        LICENCE = "licence", _("business licence")
        BRAND_AUTHORISATION = "brand_authorisation", _("brand authorisation")

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="supplier-documents/%Y/%m/", storage=_private_storage)
    original_name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.supplier}"


class SupplierMembership(models.Model):
    """A person who works for a supplier. One supplier per person."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="memberships")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supplier_membership"
    )
    is_owner = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)


class Product(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="products")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True, default="")
    commission_rate_bp = models.PositiveIntegerField(
        _("commission rate (basis points)"),
        help_text=_("Paid to the sharer who brought the purchase; 1000 = 10%."),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by catalog.services whenever what a shopper sees of this product
    # changes (images, the supplier's standing, a stock state): rendered pages
    # of it are cached under keys that include it.
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_rate_bp__lte=10000), name="product_commission_at_most_100pct"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    image = models.ImageField(upload_to="products/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class SKU(models.Model):
    """A sellable variant with its supply price and retail band, all in fen.
    Stock never goes below zero: the database refuses it, and every change is a
    conditional update."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="skus")
    code = models.CharField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=120)
    supply_price = models.PositiveBigIntegerField(_("supply price"))
    retail_min = models.PositiveBigIntegerField(_("lowest retail price"))
    retail_max = models.PositiveBigIntegerField(_("highest retail price"))
    suggested_retail_price = models.PositiveBigIntegerField(_("suggested retail price"))
    stock = models.IntegerField(_("stock"), default=0)
    currency = models.CharField(max_length=3, default="CNY")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="sku_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(retail_min__lte=models.F("retail_max")), name="sku_band_ordered"
            ),
            models.CheckConstraint(
                condition=Q(supply_price__lte=models.F("retail_min")),
                name="sku_supply_within_band",
            ),
            models.UniqueConstraint(
                fields=["supplier", "code"], name="sku_code_unique_per_supplier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} · {self.name}"
