"""Read helpers for the supply market."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from kinshop.catalog.models import SKU, Product, ProductImage, Supplier, SupplierMembership


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
