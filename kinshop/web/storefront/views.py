"""The public pages: the list of shops, a shop's storefront and a product in a shop.

Each page reads through `queries` in a fixed number of SQL queries, whatever
the number of products, SKUs or images."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.core.cache import cache
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kinshop.catalog import queries as catalog_queries
from kinshop.catalog import rules as catalog_rules
from kinshop.catalog.models import Supplier
from kinshop.core.errors import NotFound
from kinshop.sharing import services as sharing
from kinshop.sharing.cookie import share_code_of
from kinshop.shops import queries
from kinshop.shops.models import Shop
from kinshop.web import traffic, trust_cards
from kinshop.web.campaign_cards import product_campaigns

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
    code = share_code_of(request)
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
    """The shop's header is read per request (one query, with the versions);
    its product grid, the same for every viewer, is rendered once per version
    and language and kept in the cache. Per-viewer parts (cart, sign-in, CSRF,
    who shared the link) stay outside it."""
    shop = queries.shop_with_page_versions(handle)
    if shop is None:
        raise Http404
    key = (
        f"storefront:{shop.id}:{shop.storefront_version}:{shop.catalog_version}:"  # type: ignore[attr-defined]
        f"{get_language()}"
    )
    grid = cache.get(key)
    if grid is None:
        cards = _cards(shop)
        html = render_to_string("web/storefront/_grid.html", {"shop": shop, "cards": cards})
        grid = {"count": len(cards), "html": html}
        cache.set(key, grid)
    return render(
        request,
        "web/storefront/storefront.html",
        {
            "shop": shop,
            "card_count": grid["count"],
            "grid": mark_safe(grid["html"]),  # rendered by our own template, escaped there
            "shared_by": _shared_by(request, shop),
        },
    )


def _cards(shop: Shop) -> list[dict]:
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
    return cards


def product_page(request, handle: str, product_id: int):
    """Like the storefront: the product's details (SKUs, prices, stock states,
    images) are kept in the cache per version and language; the page around
    them (its form's CSRF token, the cart, who shared) is per request. What a
    buyer is charged never comes from here: an order prices from the database."""
    shop = queries.shop_with_page_versions(handle, product_id=product_id)
    if shop is None or shop.product_version is None:  # type: ignore[attr-defined]
        raise Http404
    key = (
        f"product:{shop.id}:{product_id}:{shop.storefront_version}:"
        f"{shop.product_version}:{get_language()}"  # type: ignore[attr-defined]
    )
    details = cache.get(key)
    if details is None:
        details = _product_details(shop, product_id) or {}  # {}: not for sale, kept too
        cache.set(key, details)
    if not details:
        raise Http404
    traffic.record(request, "view", shop_id=shop.pk, product_id=product_id)
    # Group buys and flash sales of its SKUs, read per request: seats and units move.
    campaigns = product_campaigns(shop.pk, [row["sku"].id for row in details["skus"]])
    return render(
        request,
        "web/storefront/product.html",
        {
            "shop": shop,
            **details,
            "shared_by": _shared_by(request, shop),
            "campaigns": campaigns,
        },
    )


def supplier_page(request, supplier_id: int):
    """A supplier's public page: the verified badge while its verification
    stands (a notice once it is withdrawn and its products left the market)
    and its trust card. A supplier the operator never verified has no page."""
    supplier = Supplier.objects.filter(pk=supplier_id, verified_at__isnull=False).first()
    if supplier is None:
        raise Http404
    card = trust_cards.supplier_card(supplier.pk, is_verified=supplier.is_verified)
    rates = [
        (_("On-time shipping"), card["on_time_shipping_rate"]),
        (_("Orders refunded"), card["refund_rate"]),
        (_("Complaints upheld"), card["upheld_complaint_rate"]),
    ]
    return render(
        request,
        "web/storefront/supplier.html",
        {
            "supplier": supplier,
            "card": card,
            "rates": [(label, f"{bp / 100:.1f}%") for label, bp in rates],
        },
    )


def _product_details(shop: Shop, product_id: int) -> dict | None:
    product = catalog_queries.market_products().filter(pk=product_id, selections__shop=shop).first()
    if product is None:
        return None
    all_skus = list(product.skus.all())
    prices = queries.retail_prices(shop.id, [sku.id for sku in all_skus])
    skus: list[_SkuRow] = [
        {"sku": sku, "price": prices[sku.id], **_stock(sku.stock)}
        for sku in all_skus
        if sku.id in prices
    ]
    if not skus:
        return None
    amounts = [row["price"] for row in skus]
    # Preselect the first SKU that can still be bought.
    available = [row for row in skus if row["stock_state"] != "out_of_stock"]
    return {
        "product": product,
        "skus": skus,
        "images": list(product.images.all()),
        "price_min": min(amounts),
        "price_max": max(amounts),
        "selected_sku_id": available[0]["sku"].id if available else None,
        **_stock(sum(row["sku"].stock for row in skus)),
    }
