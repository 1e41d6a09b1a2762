"""The shop console (/console/shop/): the shopkeeper's overview, the supply
market with its pick form, the shop's products, its orders with their margin,
and its settings. Only the shop's keeper reaches it: the shop is always the
signed-in user's own (one per person), never taken from the URL."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kinshop.catalog import queries as catalog_queries
from kinshop.catalog import rules as catalog_rules
from kinshop.core import clock
from kinshop.core.errors import DomainError, InvalidInput
from kinshop.ledger import queries as ledger_queries
from kinshop.ledger import rules as ledger_rules
from kinshop.ledger.models import Account, JournalEntry, Posting
from kinshop.orders import queries as order_queries
from kinshop.orders.models import Order
from kinshop.shops import queries, services
from kinshop.shops.models import SelectionPrice, Shop
from kinshop.web.errors import error_text
from kinshop.web.forms import refusal, submit
from kinshop.web.shop_console.forms import (
    OfflineSaleForm,
    OpenShopForm,
    ShopSettingsForm,
    WholesaleOrderForm,
    parse_pick_prices,
    price_field_name,
)
from kinshop.wholesale import queries as wholesale_queries
from kinshop.wholesale import services as wholesale_services

PAGE_SIZE = 10


def _own_shop(user) -> Shop | None:
    return Shop.objects.filter(owner=user).first()


def shop_required(view):
    """Signed in and keeping a shop; anyone else is sent to the open-a-shop page."""

    @login_required
    def wrapped(request, *args, **kwargs):
        shop = _own_shop(request.user)
        if shop is None:
            return redirect("shop_console:overview")
        return view(request, shop, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# -- read-only aggregates for the overview (no query helper exists for them) --


def _order_stats(shop: Shop, since: dt.datetime, today: dt.datetime) -> dict[str, int]:
    """Paid orders of the shop since `since` and since the start of today."""
    return Order.objects.filter(shop=shop, paid_at__gte=since).aggregate(
        week=Count("pk"), today=Count("pk", filter=Q(paid_at__gte=today))
    )


def _margin_stats(shop: Shop, since: dt.datetime, today: dt.datetime) -> dict[str, int]:
    """The shop's margin on orders paid since `since` (and today), net of their
    refunds: captures credit pending, refunds debit pending (or available once
    settled); settlements move money between the two and are left out."""
    owner = ledger_queries.shop_owner(shop.pk)
    rows = Posting.objects.filter(
        account__owner_key=owner.key,
        account__kind__in=[Account.Kind.PENDING, Account.Kind.AVAILABLE],
        entry__kind__in=[JournalEntry.Kind.CAPTURE, JournalEntry.Kind.REFUND],
        entry__order__paid_at__gte=since,
    ).aggregate(week=Sum("amount"), today=Sum("amount", filter=Q(entry__order__paid_at__gte=today)))
    return {key: -(value or 0) for key, value in rows.items()}


@login_required
@require_http_methods(["GET", "POST"])
def overview(request):
    shop = _own_shop(request.user)
    if shop is None:
        return _open_shop(request)
    now = clock.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - dt.timedelta(days=6)
    orders = _order_stats(shop, since, today)
    margin = _margin_stats(shop, since, today)
    return render(
        request,
        "web/shop_console/overview.html",
        {
            "tab": "overview",
            "shop": shop,
            "orders": orders,
            "margin": margin,
            "wallet": ledger_queries.wallet(request.user, "shop"),
            "product_count": queries.storefront_selections(shop).count(),
            "recent": order_queries.orders_as(request.user, "shop")[:5],
        },
    )


def _open_shop(request):
    form = OpenShopForm(request.POST or None)
    opened = submit(
        form,
        lambda data: services.open_shop(
            user=request.user, handle=data["handle"], name=data["name"], bio=data["bio"]
        ),
    )
    if opened is not None:
        messages.success(request, _("Your shop is open. Pick products from the market."))
        return redirect("shop_console:market")
    status = 422 if request.method == "POST" else 200
    return render(request, "web/shop_console/open_shop.html", {"form": form}, status=status)


def _sku_rows(product, shop_prices: dict[int, int], typed=None) -> list[dict]:
    """Per SKU: the band, the price to show (typed, the shop's, or suggested)
    and the split at that price if a sharer brought the buyer."""
    fee_bp = settings.KINSHOP_PLATFORM_FEE_BP
    rows = []
    for sku in product.skus.all():
        price = shop_prices.get(sku.id, sku.suggested_retail_price)
        typed_text = (typed or {}).get(price_field_name(sku.id))
        split = None
        if sku.retail_min <= price <= sku.retail_max:
            try:
                split = catalog_rules.split_line(
                    price, sku.supply_price, product.commission_rate_bp, fee_bp
                )
            except InvalidInput:
                split = None
        rows.append(
            {
                "sku": sku,
                "field": price_field_name(sku.id),
                "price": price,
                "value": typed_text if typed_text is not None else f"{price / 100:.2f}",
                "split": split,
            }
        )
    return rows


MAX_SEARCH_LENGTH = 100


def _market(request, shop: Shop, *, errors=None, typed=None, status=200):
    # A search longer than any title is cut: SQLite refuses LIKE patterns past 50 kB.
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()[:MAX_SEARCH_LENGTH]
    products = catalog_queries.market_products().order_by("-id")
    if query:
        products = products.filter(Q(title__icontains=query) | Q(description__icontains=query))
    page_number = request.POST.get("page") or request.GET.get("page")
    page_obj = Paginator(products, PAGE_SIZE).get_page(page_number)
    product_ids = [product.id for product in page_obj]
    shop_prices = dict(
        SelectionPrice.objects.filter(shop=shop, sku__product_id__in=product_ids).values_list(
            "sku_id", "retail_price"
        )
    )
    picked = set(
        shop.selections.filter(product_id__in=product_ids).values_list("product_id", flat=True)
    )
    cards = []
    for product in page_obj:
        images = list(product.images.all())
        cards.append(
            {
                "product": product,
                "image": images[0] if images else None,
                "is_picked": product.id in picked,
                "commission_percent": product.commission_rate_bp / 100,
                "skus": _sku_rows(
                    product,
                    shop_prices,
                    typed if errors and product.id in errors else None,
                ),
                "errors": (errors or {}).get(product.id, []),
            }
        )
    return render(
        request,
        "web/shop_console/market.html",
        {"tab": "market", "shop": shop, "cards": cards, "page_obj": page_obj, "query": query},
        status=status,
    )


@shop_required
def market(request, shop):
    return _market(request, shop)


@shop_required
@require_POST
def pick(request, shop, product_id: int):
    product = catalog_queries.market_products().filter(pk=product_id).first()
    if product is None:
        messages.error(request, _("This product is no longer in the supply market."))
        return redirect("shop_console:market")
    skus = {sku.id: sku for sku in product.skus.all()}
    prices, problems = parse_pick_prices(request.POST, skus)
    if not problems:
        try:
            with transaction.atomic():
                services.add_selection(
                    user=request.user, shop=shop, product_id=product_id, prices=prices
                )
        except DomainError as error:
            sku_id = error.details.get("sku_id")
            sku = skus.get(sku_id) if sku_id is not None else None
            problems.append(error_text(error, sku=sku.name if sku else ""))
        else:
            messages.success(
                request, _("“%(title)s” is on sale in your shop.") % {"title": product.title}
            )
            return redirect(_back_to_market(request))
    return _market(request, shop, errors={product_id: problems}, typed=request.POST, status=422)


def _back_to_market(request) -> str:
    params = {key: request.POST[key] for key in ("q", "page") if request.POST.get(key)}
    url = reverse("shop_console:market")
    return f"{url}?{urlencode(params)}" if params else url


@shop_required
def selection(request, shop):
    selections = list(queries.storefront_selections(shop))
    return render(
        request,
        "web/shop_console/selection.html",
        {"tab": "selection", "shop": shop, "selections": selections},
    )


@shop_required
@require_POST
def remove(request, shop, product_id: int):
    try:
        with transaction.atomic():
            services.remove_selection(user=request.user, shop=shop, product_id=product_id)
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("The product is no longer sold in your shop."))
    return redirect("shop_console:selection")


def order_margin(order: Order) -> int:
    """The shop's margin on an order as the ledger holds it: each line's split
    at capture (its frozen prices and rates) less what its refunds reversed.
    Nothing for an order that was never paid."""
    if order.paid_at is None or order.is_wholesale:
        return 0  # a wholesale order is the shop buying stock: no margin on it
    total = 0
    for line in order.lines.all():
        split = catalog_rules.split_line(
            line.line_total,
            line.supply_total,
            line.commission_rate_bp if line.commission_beneficiary_id else 0,
            line.platform_fee_bp,
        )
        reversed_so_far = ledger_rules.reversed_to_date(
            split, line.line_total, line.refunded_amount
        )
        total += split.margin - reversed_so_far.margin
    return total


@shop_required
def orders(request, shop):
    page_obj = Paginator(order_queries.orders_as(request.user, "shop"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"order": order, "margin": order_margin(order)} for order in page_obj]
    return render(
        request,
        "web/shop_console/orders.html",
        {"tab": "orders", "shop": shop, "rows": rows, "page_obj": page_obj},
    )


@shop_required
@require_http_methods(["GET", "POST"])
def shop_settings(request, shop):
    form = ShopSettingsForm(request.POST or None, initial={"name": shop.name, "bio": shop.bio})
    updated = submit(
        form,
        lambda data: services.update_shop(
            user=request.user, shop=shop, name=data["name"], bio=data["bio"]
        ),
    )
    if updated is not None:
        messages.success(request, _("Your shop is updated."))
        return redirect("shop_console:settings")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "web/shop_console/settings.html",
        {"tab": "settings", "shop": shop, "form": form},
        status=status,
    )


# -- wholesale: tiers, buying stock, holdings, offline sales --


@shop_required
def wholesale(request, shop):
    """Stock for offline resale: what the shop holds (held longest first), its
    retail reach, and the SKUs suppliers sell wholesale with their tiers."""
    floor = settings.KINSHOP_HOLDING_FLOOR
    holdings = wholesale_queries.holding_rows(shop_id=shop.id, floor=floor)
    page_obj = Paginator(wholesale_queries.wholesale_skus(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    skus = list(page_obj)
    tiers = wholesale_queries.tiers_of(sku.id for sku in skus)
    by_sku = {row.sku.id: row for row in holdings}
    offers = [
        {
            "sku": sku,
            "tiers": tiers.get(sku.id, []),
            "room": max(0, by_sku[sku.id].cap - by_sku[sku.id].counts.unsold)
            if sku.id in by_sku
            else floor,
        }
        for sku in skus
    ]
    return render(
        request,
        "web/shop_console/wholesale.html",
        {
            "tab": "wholesale",
            "shop": shop,
            "holdings": holdings,
            "offers": offers,
            "page_obj": page_obj,
            "reach": wholesale_queries.retail_reach(shop_id=shop.id),
            "floor": floor,
        },
    )


@shop_required
@require_POST
def wholesale_order(request, shop):
    form = WholesaleOrderForm(request.POST)
    order = submit(
        form,
        lambda data: wholesale_services.place_order(
            user=request.user,
            shop=shop,
            lines=[wholesale_services.LineRequest(data["sku_id"], data["quantity"])],
        ),
    )
    if order is None:
        messages.error(request, refusal(form))
        return redirect("shop_console:wholesale")
    messages.success(
        request, _("Wholesale order #%(id)s placed: pay it to have it shipped.") % {"id": order.id}
    )
    return redirect("payments:choose", order_id=order.id)


@shop_required
@require_POST
def offline_sale(request, shop):
    form = OfflineSaleForm(request.POST)
    sale = submit(
        form,
        lambda data: wholesale_services.record_offline_sale(
            user=request.user,
            shop=shop,
            sku_id=data["sku_id"],
            quantity=data["quantity"],
            unit_price=data["unit_price"],
        ),
    )
    if sale is None:
        messages.error(request, refusal(form))
    else:
        messages.success(
            request, _("%(quantity)s units recorded as sold offline.") % {"quantity": sale.quantity}
        )
    return redirect("shop_console:wholesale")
