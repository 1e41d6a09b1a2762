"""The public pages: the list of shops, a shop's storefront and a product in a shop.

Each page reads through `queries` in a fixed number of SQL queries, whatever
the number of products, SKUs or images."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.core.cache import cache
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kinshop.catalog import queries as catalog_queries
from kinshop.catalog import rules as catalog_rules
from kinshop.catalog.models import Supplier
from kinshop.core import clock
from kinshop.shops import queries
from kinshop.shops.models import Shop
from kinshop.web import traffic, trust_cards, viewer_parts
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
    """The page is the same for every viewer but for its viewer parts (cart,
    account menu, CSRF token, toasts, who shared the link): it is kept rendered
    as a frame per shop, versions and language (kinshop.web.viewer_parts), so a
    request costs the filling of its parts and at most one small query (the
    versions, read at most once per KINSHOP_STOREFRONT_RECHECK_SECONDS). The
    frame is kept no longer than the trust card in it may be shown."""
    versions = queries.storefront_versions(handle)
    if versions is None:
        raise Http404
    shop_id, storefront_version, catalog_version, header = versions
    language = get_language()
    key = f"storefront-page:{shop_id}:{storefront_version}:{catalog_version}:{header}:{language}"
    now = clock.now().timestamp()
    kept = cache.get(key)
    if kept is None or kept[0] <= now:
        shop = queries.shop_by_id(shop_id)
        if shop is None:  # gone since the versions were read
            raise Http404
        frame, seconds = _storefront_frame(shop, versions, language)
        kept = (now + seconds, frame)
        cache.set(key, kept, seconds)
    return HttpResponse(viewer_parts.fill(kept[1], request, {"shop_id": shop_id}))


def _storefront_frame(
    shop: Shop, versions: queries.StorefrontVersions, language: str
) -> tuple[viewer_parts.Frame, int]:
    """The storefront rendered for every viewer, and for how many seconds it may
    be kept. Its product grid is kept on its own, per versions and language, so
    that a frame rendered again for a newer trust card does not read it again."""
    key = (
        f"storefront:{shop.id}:{versions.storefront_version}:{versions.catalog_version}:{language}"
    )
    grid = cache.get(key)
    if grid is None:
        cards = _cards(shop)
        html = render_to_string("web/storefront/_grid.html", {"shop": shop, "cards": cards})
        grid = {"count": len(cards), "html": html}
        cache.set(key, grid)
    trust_card, seconds = trust_cards.shop_card_and_lifetime(
        shop.pk, versions.storefront_version, is_suspended=shop.is_suspended
    )
    frame = viewer_parts.render_frame(
        "web/storefront/storefront.html",
        {
            "shop": shop,
            "card_count": grid["count"],
            "grid": mark_safe(grid["html"]),  # rendered by our own template, escaped there
            "trust_card": trust_card,
        },
    )
    return frame, seconds


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
    shop = queries.shop_with_product_version(handle, product_id=product_id)
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
            "shop_id": shop.pk,  # for the viewer part naming who shared the link
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
