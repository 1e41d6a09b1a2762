from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kinshop.catalog.models import SKU, Product


class Shop(models.Model):
    """A micro-shop (微店) with a face: one per person. Its keeper picks products
    from the supply market, prices them inside the band and keeps the margin.
    It holds no stock: suppliers ship to its customers directly."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shop"
    )
    handle = models.SlugField(_("handle"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    bio = models.TextField(_("bio"), blank=True, default="")
    avatar = models.ImageField(upload_to="shops/", blank=True)
    is_active = models.BooleanField(default=True)
    # Closed to new orders by the operator (penalty points reached the limit,
    # see trust): a fact the trust app sets through shops.services and
    # checkout reads. Reversible; the storefront stays visible.
    is_suspended = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by shops.services when the shop's selection or prices change: the
    # storefront's rendered product grid is cached under keys that include it.
    storefront_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} (@{self.handle})"


class Selection(models.Model):
    """A product a shop sells."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="selections")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="selections")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "product"], name="selection_once_per_shop")
        ]


class SelectionPrice(models.Model):
    """The shop's retail price for one SKU, inside the supplier's band."""

    selection = models.ForeignKey(Selection, on_delete=models.CASCADE, related_name="prices")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey(SKU, on_delete=models.CASCADE, related_name="shop_prices")
    retail_price = models.PositiveBigIntegerField(_("retail price"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="one_price_per_shop_sku")
        ]
