"""Use cases of micro-shops. The only writers of shops and selections."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Max

from kinshop.catalog import rules as catalog_rules
from kinshop.catalog.models import Product, Supplier
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.shops import queries, rules
from kinshop.shops.models import Selection, SelectionPrice, Shop


def open_shop(*, user, handle: str, name: str, bio: str = "") -> Shop:
    """Anyone may open one shop, free: no fee, no stock to buy, no one to recruit."""
    handle = handle.strip().lower()
    if problem := rules.handle_problem(handle):
        raise InvalidInput(
            "A handle has 3 to 30 lowercase letters, digits or hyphens.", code=problem
        )
    name = name.strip()
    if not name or len(name) > 60:
        raise InvalidInput("A shop needs a name of at most 60 characters.", code="invalid_name")
    if Shop.objects.filter(owner=user).exists():
        raise Conflict("You already have a shop.", code="already_has_shop")
    if Shop.objects.filter(handle=handle).exists():
        raise Conflict("This handle is taken.", code="handle_taken")
    return Shop.objects.create(owner=user, handle=handle, name=name, bio=bio.strip())


def set_shop_suspended(*, shop: Shop, is_suspended: bool, actor) -> Shop:
    """The operator closes a shop to new orders (penalty points reached the limit)
    or opens it again. Orders already placed go on as usual."""
    if not (actor and actor.is_staff):
        raise Forbidden("Only an operator can suspend a shop.", code="not_operator")
    Shop.objects.filter(pk=shop.pk).update(
        is_suspended=is_suspended, storefront_version=F("storefront_version") + 1
    )
    _forget_storefront_versions(shop)
    shop.refresh_from_db(fields=["is_suspended", "storefront_version"])
    return shop


def update_shop(*, user, shop: Shop, name: str | None = None, bio: str | None = None) -> Shop:
    if shop.owner_id != user.id:
        raise Forbidden("Only the shopkeeper can edit this shop.", code="not_shopkeeper")
    if name is not None:
        name = name.strip()
        if not name or len(name) > 60:
            raise InvalidInput("A shop needs a name of at most 60 characters.", code="invalid_name")
        shop.name = name
    if bio is not None:
        shop.bio = bio.strip()
    shop.save(update_fields=["name", "bio"])
    _forget_storefront_versions(shop)
    return shop


def set_shop_avatar(*, user, shop: Shop, filename: str, content: bytes) -> Shop:
    """The shopkeeper gives the shop its face: the picture shown beside its name."""
    if shop.owner_id != user.id:
        raise Forbidden("Only the shopkeeper can edit this shop.", code="not_shopkeeper")
    shop.avatar.save(filename, ContentFile(content), save=False)
    shop.save(update_fields=["avatar"])
    _forget_storefront_versions(shop)
    return shop


def add_selection(*, user, shop: Shop, product_id: int, prices: dict[int, int]) -> Selection:
    """The shopkeeper picks a product from the market and prices its SKUs inside
    each supplier band; an unpriced SKU sells at the suggested price. Picking a
    product again updates its prices."""
    if shop.owner_id != user.id:
        raise Forbidden(
            "Only the shopkeeper can choose what this shop sells.", code="not_shopkeeper"
        )
    product = (
        Product.objects.filter(
            pk=product_id, is_active=True, supplier__status=Supplier.Status.VERIFIED
        )
        .prefetch_related("skus")
        .first()
    )
    if product is None:
        raise NotFound("No such product in the supply market.", code="product_not_found")
    skus = {sku.id: sku for sku in product.skus.all()}
    unknown = set(prices) - set(skus)
    if unknown:
        raise InvalidInput(
            "Some prices name SKUs of another product.", code="unknown_sku", sku_ids=sorted(unknown)
        )
    chosen: dict[int, int] = {}
    for sku_id, sku in skus.items():
        price = prices.get(sku_id, sku.suggested_retail_price)
        if not catalog_rules.is_in_band(
            price, retail_min=sku.retail_min, retail_max=sku.retail_max
        ):
            raise InvalidInput(
                f"{sku.name}: the price must be between {sku.retail_min} and {sku.retail_max} fen.",
                code="price_out_of_band",
                sku_id=sku_id,
                retail_min=sku.retail_min,
                retail_max=sku.retail_max,
            )
        if not catalog_rules.margin_is_covered(
            price=price,
            supply_price=sku.supply_price,
            commission_bp=product.commission_rate_bp,
            fee_bp=settings.KINSHOP_PLATFORM_FEE_BP,
        ):
            raise InvalidInput(
                f"{sku.name}: at this price the margin would be negative.",
                code="price_below_cost",
                sku_id=sku_id,
            )
        chosen[sku_id] = price
    selection = Selection.objects.filter(shop=shop, product=product).first()
    if selection is None:
        last = Selection.objects.filter(shop=shop).aggregate(last=Max("position"))["last"]
        selection = Selection.objects.create(shop=shop, product=product, position=(last or 0) + 1)
    for sku_id, price in chosen.items():
        SelectionPrice.objects.update_or_create(
            shop=shop, sku_id=sku_id, defaults={"selection": selection, "retail_price": price}
        )
    _touch_storefront(shop)
    return selection


def storefront_changed(shop: Shop) -> None:
    """An operator changed what the shop sells, its prices or its header in the
    admin: its kept storefront and product pages are stale from now on."""
    _touch_storefront(shop)


def _touch_storefront(shop: Shop) -> None:
    """What the shop sells or its prices changed: its cached storefront and
    product pages are stale from now on (their keys include this version)."""
    Shop.objects.filter(pk=shop.pk).update(storefront_version=F("storefront_version") + 1)
    _forget_storefront_versions(shop)


def _forget_storefront_versions(shop: Shop) -> None:
    """Storefronts read a shop's versions (and its header) at most once per
    KINSHOP_STOREFRONT_RECHECK_SECONDS: once this change commits, read them
    anew, so that a shopkeeper sees their own change at once."""
    handle = shop.handle
    transaction.on_commit(lambda: queries.forget_storefront_versions(handle))


def remove_selection(*, user, shop: Shop, product_id: int) -> None:
    if shop.owner_id != user.id:
        raise Forbidden(
            "Only the shopkeeper can choose what this shop sells.", code="not_shopkeeper"
        )
    deleted, _ = Selection.objects.filter(shop=shop, product_id=product_id).delete()
    if not deleted:
        raise NotFound("This shop does not sell that product.")
    _touch_storefront(shop)
