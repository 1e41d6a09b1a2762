"""The public pages: the list of shops, a shop's storefront and a product in a shop.

Each page reads through `queries` in a fixed number of SQL queries, whatever
the number of products, SKUs or images."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from kinshop.catalog import queries as catalog_queries
from kinshop.catalog import rules as catalog_rules
from kinshop.catalog.models import Supplier
from kinshop.core.errors import NotFound
from kinshop.sharing import services as sharing
from kinshop.shops import queries
from kinshop.shops.models import Shop
from kinshop.web import traffic

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from kinshop.catalog.models import SKU

STOCK_LABELS = {
    "in_stock": _("In stock"),
    "low_stock": _("Low stock"),
    "out_of_stock": _("Sold out"),
}


class _Stock(TypedDict):
    stock_state: str
    stock_label: StrOrPromise


class _SkuRow(_Stock):
    sku: SKU
    price: int


def _stock(stock: int) -> _Stock:
    state = catalog_rules.stock_state(stock)
    return {"stock_state": state, "stock_label": STOCK_LABELS[state]}


def _shared_by(request, shop: Shop) -> str:
    """The name of the friend whose link brought this visitor to this shop, if any."""
    code = request.session.get("share_code")
    if not code:
        return ""
    try:
        link = sharing.link_by_code(code)
    except NotFound:
        return ""
    return link.sharer.public_name if link.shop_id == shop.id else ""


def home(request):
    on_sale = Q(
        selections__product__is_active=True,
        selections__product__supplier__status=Supplier.Status.VERIFIED,
    )
    shops = (
        Shop.objects.filter(is_active=True)
        .select_related("owner")
        .annotate(product_count=Count("selections", filter=on_sale))
        .order_by("id")[:20]
    )
    return render(request, "web/storefront/home.html", {"shops": shops})


def storefront(request, handle: str):
    shop = queries.shop_by_handle(handle)
    if shop is None:
        raise Http404
    cards = []
    for selection in queries.storefront_selections(shop):
        # Only the SKUs this shop has priced are for sale here.
        priced = list(selection.prices.all())
        if not priced:
            continue
        prices = [price.retail_price for price in priced]
        images = list(selection.product.images.all())
        cards.append(
            {
                "product": selection.product,
                "image": images[0] if images else None,
                "price_from": min(prices),
                "has_range": min(prices) != max(prices),
                **_stock(sum(price.sku.stock for price in priced)),
            }
        )
    return render(
        request,
        "web/storefront/storefront.html",
        {"shop": shop, "cards": cards, "shared_by": _shared_by(request, shop)},
    )


def product_page(request, handle: str, product_id: int):
    shop = queries.shop_by_handle(handle)
    if shop is None:
        raise Http404
    product = catalog_queries.market_products().filter(pk=product_id, selections__shop=shop).first()
    if product is None:
        raise Http404
    all_skus = list(product.skus.all())
    prices = queries.retail_prices(shop.id, [sku.id for sku in all_skus])
    skus: list[_SkuRow] = [
        {"sku": sku, "price": prices[sku.id], **_stock(sku.stock)}
        for sku in all_skus
        if sku.id in prices
    ]
    if not skus:
        raise Http404
    traffic.record(request, "view", shop_id=shop.pk, product_id=product.pk)
    amounts = [row["price"] for row in skus]
    # Preselect the first SKU that can still be bought.
    available = [row for row in skus if row["stock_state"] != "out_of_stock"]
    return render(
        request,
        "web/storefront/product.html",
        {
            "shop": shop,
            "product": product,
            "skus": skus,
            "images": list(product.images.all()),
            "price_min": min(amounts),
            "price_max": max(amounts),
            "selected_sku_id": available[0]["sku"].id if available else None,
            "shared_by": _shared_by(request, shop),
            **_stock(sum(row["sku"].stock for row in skus)),
        },
    )
