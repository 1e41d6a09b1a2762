"""Read helpers for shops and storefronts."""

from __future__ import annotations

from django.db.models import IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from kinshop.accounts import rules as account_rules
from kinshop.catalog.models import Product, ProductImage, Supplier, SupplierMembership
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


def shop_with_page_versions(handle: str, *, product_id: int | None = None) -> Shop | None:
    """The active shop of this handle, in one query, with what its cached pages
    are keyed on: `storefront_version` (its selection and prices),
    `catalog_version` (the sum of its products' versions: any change to one of
    them changes the sum) and, when `product_id` is given, `product_version`
    (None when the shop does not sell that product); in place of
    `catalog_version`."""
    shops = Shop.objects.select_related("owner").filter(handle=handle.lower(), is_active=True)
    if product_id is None:
        versions = (
            Selection.objects.filter(shop=OuterRef("pk"))
            .order_by()
            .values("shop")
            .annotate(total=Sum("product__version"))
            .values("total")
        )
        shops = shops.annotate(
            catalog_version=Coalesce(Subquery(versions, output_field=IntegerField()), 0)
        )
    else:
        shops = shops.annotate(
            product_version=Subquery(
                Product.objects.filter(pk=product_id, selections__shop=OuterRef("pk")).values(
                    "version"
                )[:1]
            )
        )
    return shops.first()


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
