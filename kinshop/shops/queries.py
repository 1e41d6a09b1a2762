"""Read helpers for shops and storefronts."""

from __future__ import annotations

import functools
import hashlib
import math
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from kinshop.accounts import rules as account_rules
from kinshop.accounts.models import User
from kinshop.catalog.models import Product, ProductImage, Supplier, SupplierMembership
from kinshop.catalog.queries import PRODUCTS_EPOCH_KEY
from kinshop.core import clock
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


def shop_by_id(shop_id: int) -> Shop | None:
    return Shop.objects.select_related("owner").filter(pk=shop_id, is_active=True).first()


def shop_with_product_version(handle: str, *, product_id: int) -> Shop | None:
    """The active shop of this handle, in one query, with what its cached
    product page is keyed on: `storefront_version` (its selection and prices)
    and `product_version` (None when the shop does not sell that product)."""
    return (
        Shop.objects.select_related("owner")
        .filter(handle=handle.lower(), is_active=True)
        .annotate(
            product_version=Subquery(
                Product.objects.filter(pk=product_id, selections__shop=OuterRef("pk")).values(
                    "version"
                )[:1]
            )
        )
        .first()
    )


class StorefrontVersions(NamedTuple):
    """What a storefront kept rendered is keyed on: `storefront_version` (the
    shop's selection and prices, and its suspension), `catalog_version` (the sum
    of its products' versions: any change to one of them changes the sum) and
    `header` (a digest of what the page's header shows: the shop's name, bio,
    avatar, suspension and its keeper's name, which change without a version)."""

    shop_id: int
    storefront_version: int
    catalog_version: int
    header: str


HANDLE_MAX_LENGTH = Shop._meta.get_field("handle").max_length or 0


@functools.cache
def _storefront_versions_sql() -> str:
    # Written out, not built by the ORM: this runs on every storefront request,
    # and compiling the equivalent queryset cost ten times the query itself.
    shop, user = Shop._meta.db_table, User._meta.db_table
    selection, product = Selection._meta.db_table, Product._meta.db_table
    return (
        f"SELECT s.id, s.storefront_version, COALESCE((SELECT SUM(p.version)"
        f" FROM {selection} sel JOIN {product} p ON p.id = sel.product_id"
        f" WHERE sel.shop_id = s.id), 0),"
        f" s.name, s.bio, s.avatar, s.is_suspended, u.username, u.display_name"
        f" FROM {shop} s JOIN {user} u ON u.id = s.owner_id"
        f" WHERE s.handle = %s AND s.is_active"
    )


def storefront_versions(handle: str) -> StorefrontVersions | None:
    """The versions of the active shop of this handle, or None. Read in one
    small query, then kept for KINSHOP_STOREFRONT_RECHECK_SECONDS: a crowd on one
    storefront costs each process one query per that many seconds, and a change
    shows on it at most that late (at once where the change was made, as the
    services that bump a version forget this; 0 reads on every request). What a
    buyer is charged never comes from a storefront: an order prices from the
    database."""
    handle = handle.lower()
    if len(handle) > HANDLE_MAX_LENGTH:  # no such shop: no query, no cache key of any length
        return None
    recheck = settings.KINSHOP_STOREFRONT_RECHECK_SECONDS
    key = f"storefront-versions:{handle}"
    now = clock.now().timestamp()
    epoch = 0
    if recheck > 0:
        found = cache.get_many([key, PRODUCTS_EPOCH_KEY])
        epoch = found.get(PRODUCTS_EPOCH_KEY, 0)
        kept = found.get(key)
        # A product change anywhere counts in the epoch, so a stock state or a
        # supplier's standing shows at once too, not only the shop's own changes.
        if kept is not None and kept[0] > now and kept[2] == epoch:
            return kept[1]
    with connection.cursor() as cursor:
        cursor.execute(_storefront_versions_sql(), [handle])
        row = cursor.fetchone()
    if row is None:
        return None
    shop_id, storefront_version, catalog_version, *header = row
    digest = hashlib.blake2b("\x1f".join(map(str, header)).encode(), digest_size=8)
    versions = StorefrontVersions(
        shop_id, storefront_version, int(catalog_version), digest.hexdigest()
    )
    if recheck > 0:
        cache.set(key, (now + recheck, versions, epoch), math.ceil(recheck) + 1)
    return versions


def forget_storefront_versions(handle: str) -> None:
    """After a change to the shop's storefront commits: read its versions anew."""
    cache.delete(f"storefront-versions:{handle.lower()}")


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
