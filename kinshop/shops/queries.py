"""Read helpers for shops and storefronts."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from kinshop.accounts import rules as account_rules
from kinshop.catalog.models import ProductImage, Supplier, SupplierMembership
from kinshop.shops.models import Selection, SelectionPrice, Shop


def shop_of(user) -> Shop | None:
    """The shop this user keeps (one shop per user), or None."""
    if not user.is_authenticated:
        return None
    return Shop.objects.filter(owner=user).first()


def roles_of(user) -> list[str]:
    """What a user is, derived from what they do: an operator, a shopkeeper, a
    supplier's staff; everyone signed in is a consumer and a sharer."""
    return account_rules.roles_for(
        is_operator=user.is_staff,
        has_shop=Shop.objects.filter(owner=user).exists(),
        is_supplier_staff=SupplierMembership.objects.filter(user=user).exists(),
    )


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
