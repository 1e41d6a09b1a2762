"""Read helpers for the supply market."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet

from kinshop.catalog.models import SKU, Product, ProductImage, Supplier, SupplierMembership

# Counts, in the cache, the committed changes to what shoppers see of any
# product (a version bump). Pages that keep a product's version for a moment
# (the storefront) look at it to know at once that one may have changed.
PRODUCTS_EPOCH_KEY = "catalog:products-epoch"


def products_epoch() -> int:
    return cache.get(PRODUCTS_EPOCH_KEY, 0)


def supplier_of(user) -> Supplier | None:
    if not user.is_authenticated:
        return None
    membership = SupplierMembership.objects.select_related("supplier").filter(user=user).first()
    return membership.supplier if membership else None


def is_staff_of(user, supplier_id: int) -> bool:
    return bool(
        user.is_authenticated
        and SupplierMembership.objects.filter(user=user, supplier_id=supplier_id).exists()
    )


def products_with_details() -> QuerySet[Product]:
    return Product.objects.select_related("supplier").prefetch_related(
        Prefetch("skus", queryset=SKU.objects.order_by("id")),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )


def market_products() -> QuerySet[Product]:
    """The supply market: active products of verified suppliers."""
    return products_with_details().filter(supplier__status=Supplier.Status.VERIFIED, is_active=True)
