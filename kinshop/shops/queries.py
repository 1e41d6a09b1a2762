"""Read helpers for shops and storefronts."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from kinshop.catalog.models import ProductImage, Supplier
from kinshop.shops.models import Selection, SelectionPrice, Shop


def shop_by_handle(handle: str) -> Shop | None:
    return (
        Shop.objects.select_related("owner").filter(handle=handle.lower(), is_active=True).first()
    )


def storefront_selections(shop: Shop) -> QuerySet[Selection]:
    """What a shop sells right now: active products of verified suppliers, with
    their SKUs, images and this shop's prices, in a fixed number of queries."""
    return (
        Selection.objects.filter(
            shop=shop,
            product__is_active=True,
            product__supplier__status=Supplier.Status.VERIFIED,
        )
        .select_related("product", "product__supplier")
        .prefetch_related(
            Prefetch(
                "prices", queryset=SelectionPrice.objects.select_related("sku").order_by("sku_id")
            ),
            Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id")),
        )
        .order_by("position", "id")
    )


def retail_prices(shop_id: int, sku_ids: list[int]) -> dict[int, int]:
    return dict(
        SelectionPrice.objects.filter(shop_id=shop_id, sku_id__in=sku_ids).values_list(
            "sku_id", "retail_price"
        )
    )
