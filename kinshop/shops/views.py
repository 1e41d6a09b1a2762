from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from kinshop.catalog import queries as catalog_queries
from kinshop.catalog import rules as catalog_rules
from kinshop.shops import queries
from kinshop.shops.models import Shop


def home(request):
    shops = Shop.objects.filter(is_active=True).order_by("id")[:20]
    return render(request, "shops/home.html", {"shops": shops})


def storefront(request, handle: str):
    shop = queries.shop_by_handle(handle)
    if shop is None:
        raise Http404
    selections = list(queries.storefront_selections(shop))
    cards = []
    for selection in selections:
        prices = [p.retail_price for p in selection.prices.all()]
        stock = sum(sku.stock for sku in selection.product.skus.all())
        images = list(selection.product.images.all())
        cards.append(
            {
                "product": selection.product,
                "image": images[0] if images else None,
                "price_from": min(prices) if prices else None,
                "stock_state": catalog_rules.stock_state(stock),
            }
        )
    return render(request, "shops/storefront.html", {"shop": shop, "cards": cards})


def product_page(request, handle: str, product_id: int):
    shop = queries.shop_by_handle(handle)
    if shop is None:
        raise Http404
    product = catalog_queries.market_products().filter(pk=product_id, selections__shop=shop).first()
    if product is None:
        raise Http404
    prices = queries.retail_prices(shop.id, [sku.id for sku in product.skus.all()])
    skus = [
        {"sku": sku, "price": prices[sku.id], "stock_state": catalog_rules.stock_state(sku.stock)}
        for sku in product.skus.all()
        if sku.id in prices
    ]
    return render(
        request,
        "shops/product.html",
        {"shop": shop, "product": product, "skus": skus, "images": list(product.images.all())},
    )
