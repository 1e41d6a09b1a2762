"""Wholesale (批发) without 压货: tier prices, what each shop holds, and what it
sells offline. How many units a shop holds is never stored: it is derived from
the facts (wholesale lines shipped, offline sales, returns), so it cannot drift
from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WholesaleTier(models.Model):
    """A supplier's wholesale price of one SKU from a minimum quantity up (阶梯价).
    Prices fall as quantity rises and never exceed the supply price."""

    sku = models.ForeignKey("catalog.SKU", on_delete=models.CASCADE, related_name="wholesale_tiers")
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")
    min_quantity = models.PositiveIntegerField(_("from quantity"))
    unit_price = models.PositiveBigIntegerField(_("unit price"))

    class Meta:
        ordering = ["sku_id", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "min_quantity"], name="one_tier_per_quantity"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="tier_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=1), name="tier_price_positive"),
        ]

    def __str__(self) -> str:
        return f"≥{self.min_quantity} × {self.unit_price}"


class Holding(models.Model):
    """A shop's stock of one SKU bought wholesale. The row carries no numbers:
    it is the lock that wholesale orders, offline sales and returns of this
    (shop, SKU) take in turn, so that the holding cap and "never sell more than
    held" hold under concurrency."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="holdings")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="holdings")
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="one_holding_per_shop_sku")
        ]

    def __str__(self) -> str:
        return f"{self.shop_id}/{self.sku_id}"


class OfflineSale(models.Model):
    """Units of a holding the shopkeeper sold to consumers offline (a market
    stall, a tea room): they reached a consumer."""

    holding = models.ForeignKey(Holding, on_delete=models.PROTECT, related_name="offline_sales")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.PositiveBigIntegerField(_("unit price"))
    currency = models.CharField(max_length=3, default="CNY")
    sold_at = models.DateTimeField(_("sold at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-sold_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="offline_sale_quantity_positive"
            )
        ]
        indexes = [
            models.Index(fields=["shop", "sku", "sold_at"], name="offline_sale_recent"),
            models.Index(fields=["supplier", "sold_at"], name="offline_sale_supplier"),
        ]


class WholesaleReturn(models.Model):
    """Unsold units sent back to the supplier, refunded as a refund of the
    wholesale order line they were bought on. Units under a refund that is
    rejected or fails are the shop's again."""

    holding = models.ForeignKey(Holding, on_delete=models.PROTECT, related_name="returns")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey("catalog.Supplier", on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="wholesale_returns"
    )
    refund = models.OneToOneField(
        "orders.Refund", on_delete=models.PROTECT, related_name="wholesale_return"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_quantity_positive")
        ]
