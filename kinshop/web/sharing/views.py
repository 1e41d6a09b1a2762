"""The share pages: a link's landing (/s/<code>: the click is counted and the
browser sent on to the shop or product), its QR poster, and the share sheet
where a signed-in person gets their own link."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kinshop.catalog import queries as catalog_queries
from kinshop.core.device import device_of
from kinshop.core.errors import DomainError, NotFound
from kinshop.core.money import apply_rate
from kinshop.sharing import rules, services
from kinshop.sharing.api import poster_response
from kinshop.sharing.cookie import remember_share_code
from kinshop.shops import queries as shop_queries
from kinshop.web.errors import error_text
from kinshop.web.sharing.forms import ShareSheetForm


def landing(request, code: str):
    """Count the click and send the browser on. This is what a viral link hits
    thousands of times a minute: for a visitor not signed in, the click's INSERT
    is the only statement (the link comes from the cache, the visitor is known
    by the device cookie, the share code goes in a signed cookie), and a
    visitor opening it again and again counts once per click window."""
    channel = request.GET.get("c", "link")
    if not rules.is_valid_channel(channel):
        channel = "link"  # a mangled link still counts, as a plain link
    # The device id: clicks made before signing up are claimed by the account.
    key = request.device_id
    try:
        if request.user.is_authenticated:
            with transaction.atomic():
                services.claim_anonymous_clicks(visitor_key=key, user=request.user)
                click = services.record_click(
                    code=code, viewer=request.user, visitor_key=key, channel=channel
                )
            path = services.landing_target(click.link.code).path
        else:
            # One statement: its own transaction, no BEGIN/COMMIT round trips.
            path = services.land(code=code, visitor_key=key, channel=channel).path
    except NotFound:
        return render(request, "web/sharing/not_found.html", {"code": code}, status=404)
    response = redirect(path)
    remember_share_code(response, code)
    return response


def poster_png(request, code: str):
    try:
        link = services.link_by_code(code)
    except NotFound:
        return render(request, "web/sharing/not_found.html", {"code": code}, status=404)
    return poster_response(link)


@require_POST
def share_sheet(request):
    """The share sheet of a shop or a product: the sharer's own link, its QR
    poster and what they earn per sale. HTMX swaps it into #sheet; without
    HTMX it is a page of its own."""
    form = ShareSheetForm(request.POST)
    if not form.is_valid():
        raise Http404
    shop = shop_queries.shop_by_handle(form.cleaned_data["shop"])
    if shop is None:
        raise Http404
    product = None
    product_id = form.cleaned_data["product"]
    if product_id is not None:
        product = (
            catalog_queries.market_products().filter(pk=product_id, selections__shop=shop).first()
        )
        if product is None:
            raise Http404
    back = f"/shop/{shop.handle}/" + (f"p/{product.id}/" if product is not None else "")
    context: dict[str, object] = {
        "shop": shop,
        "product": product,
        "back": back,
        "is_htmx": bool(request.headers.get("HX-Request")),
    }
    if request.user.is_authenticated:
        try:
            with transaction.atomic():
                link = services.create_share_link(
                    sharer=request.user,
                    shop=shop,
                    product=product,
                    device_id=device_of(request),
                )
        except DomainError as error:
            messages.error(request, error_text(error))
            return redirect(back)
        url = request.build_absolute_uri(f"/s/{link.code}")
        context.update(link=link, url=url, is_keeper=shop.owner_id == request.user.id)
        if product is not None:
            prices = shop_queries.retail_prices(shop.id, [sku.id for sku in product.skus.all()])
            if prices:
                # What one sale at the lowest price earns, rounded down like the ledger.
                context["earn"] = apply_rate(min(prices.values()), product.commission_rate_bp)
    template = (
        "web/sharing/_share_sheet.html" if context["is_htmx"] else "web/sharing/share_page.html"
    )
    return render(request, template, context)
