"""Campaign pages. For buyers: a group buy (/group-buys/<id>/: its price, the
groups with seats left, start a group), a group (/groups/<id>/: seats left and
its countdown, join it, share it with friends) and a flash sale
(/flash-sales/<id>/: units left, countdown, buy). For the shop console
(/console/shop/campaigns/): create group buys, flash sales and pre-sales, end
the first two, and the results of all three. Countdowns run in
kinshop/static/kinshop/campaigns.js.

Every write is one campaigns service call through `submit`; the share code the
visitor arrived with (a friend's /s/<code> link) goes with the order, as at
checkout, so attribution is kept on campaign orders.

Pre-sales (定金预售) have their own page (/presales/<id>/), the `presale`
block of the product page's campaign box and a section of the console."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kinshop.campaigns import queries, rules, services
from kinshop.campaigns.models import Group, GroupBuy
from kinshop.core import clock
from kinshop.core.device import device_of
from kinshop.core.errors import DomainError, NotFound
from kinshop.live import services as live
from kinshop.sharing.cookie import share_code_of
from kinshop.shops.models import SelectionPrice, Shop
from kinshop.web.campaigns.forms import FlashSaleForm, GroupBuyForm, MemberForm, PresaleForm
from kinshop.web.errors import error_text
from kinshop.web.forms import submit


def _found(lookup, key: int):
    try:
        return lookup(key)
    except NotFound:
        raise Http404 from None


def _address(data) -> services.Address:
    return services.Address(
        name=data["name"], phone=data["phone"], region=data["region"], detail=data["detail"]
    )


def _member_kwargs(request, data) -> dict:
    return {
        "user": request.user,
        "quantity": data["quantity"],
        "address": _address(data),
        "share_code": share_code_of(request),
        "device_id": device_of(request),
    }


def _order_through(request, form: MemberForm, place: Callable[..., Any]) -> HttpResponse | None:
    """A buyer's order on a campaign page: on POST, a signed-out visitor signs in
    first; a valid form places the order through `place` (a campaigns service,
    given the buyer's details) and the buyer goes on to pay. None when the page
    is to be shown, again with the form's errors if it was posted."""
    if request.method != "POST":
        return None
    if not request.user.is_authenticated:
        return redirect_to_login(request.path)
    placed = submit(form, lambda data: place(**_member_kwargs(request, data)))
    if placed is None:
        return None
    order = placed[1] if isinstance(placed, tuple) else placed  # a group answers (group, order)
    return redirect("payments:choose", order_id=order.pk)


# ---- buyers ------------------------------------------------------------------------


def group_buy_page(request, group_buy_id: int):
    """The offer, its groups that still have seats (join one) and starting a new group."""
    group_buy = _found(queries.group_buy, group_buy_id)
    form = MemberForm(request.POST or None)
    if ordered := _order_through(
        request, form, partial(services.start_group, group_buy_id=group_buy.pk)
    ):
        return ordered
    now = clock.now()
    groups = queries.open_groups(group_buy.pk, now)
    for group in groups:
        group.seats_left = group.allotment.limit - group.allotment.taken  # type: ignore[attr-defined]
    context = {
        "group_buy": group_buy,
        "shop": group_buy.shop,
        "product": group_buy.sku.product,
        "open": group_buy.status == GroupBuy.Status.ACTIVE and group_buy.ends_at > now,
        "groups": groups,
        "form": form,
    }
    return render(request, "web/campaigns/group_buy.html", context)


def group_page(request, group_id: int):
    """A group, reached from its leader's or a member's share: who is in, seats
    left, time left, join it; a member shares the page's address with friends."""
    group = _found(queries.group, group_id)
    form = MemberForm(request.POST or None)
    if ordered := _order_through(request, form, partial(services.join_group, group_id=group.pk)):
        return ordered
    status = services.group_status(group)
    allotment = group.allotment
    group_buy = group.group_buy
    context = {
        "group": group,
        "group_buy": group_buy,
        "shop": group.shop,
        "product": group_buy.sku.product,
        "sku": group_buy.sku,
        "status": status,
        "seats_left": allotment.limit - allotment.taken,
        "paid_members": allotment.paid,
        "can_join": status == Group.Status.FORMING and allotment.taken < allotment.limit,
        "share_url": request.build_absolute_uri(f"/groups/{group.pk}/"),
        "form": form,
    }
    return render(request, "web/campaigns/group.html", context)


def flash_sale_page(request, sale_id: int):
    sale = _found(queries.flash_sale, sale_id)
    form = MemberForm(request.POST or None)
    if ordered := _order_through(request, form, partial(services.buy_flash_sale, sale_id=sale.pk)):
        return ordered
    context = {
        "sale": sale,
        "shop": sale.shop,
        "product": sale.sku.product,
        "sku": sale.sku,
        "phase": rules.flash_phase(
            starts_at=sale.starts_at, ends_at=sale.ends_at, ended_at=sale.ended_at, now=clock.now()
        ),
        "left": sale.allotment.limit - sale.allotment.taken,
        "form": form,
    }
    return render(request, "web/campaigns/flash_sale.html", context)


def presale_page(request, presale_id: int):
    """A pre-sale: the price, the deposit paid now, the balance window and the
    ship date; ordering takes the buyer on to pay the deposit."""
    presale = _found(queries.presale, presale_id)
    form = MemberForm(request.POST or None)
    if ordered := _order_through(
        request, form, partial(services.buy_presale, presale_id=presale.pk)
    ):
        return ordered
    context = {
        "presale": presale,
        "shop": presale.shop,
        "product": presale.sku.product,
        "sku": presale.sku,
        "is_open": presale.balance_ends_at > clock.now(),
        "form": form,
    }
    return render(request, "web/campaigns/presale.html", context)


# ---- the shop console ------------------------------------------------------------------


def _own_shop(user) -> Shop | None:
    return Shop.objects.filter(owner=user).first()


def _sku_choices(shop: Shop) -> list[tuple[int, str]]:
    prices = SelectionPrice.objects.filter(shop=shop).select_related("sku", "sku__product")
    return [
        (price.sku_id, f"{price.sku.product.title} · {price.sku.name}")
        for price in prices.order_by("sku_id")
    ]


@login_required
def console(request):
    """The shop's campaigns with their results (group buys: groups formed,
    succeeded and failed; flash sales: units sold and paid; pre-sales: deposits
    paid, balances paid and lapsed; each with its paid value), the forms to
    create them, and a button to end a running group buy or flash sale."""
    shop = _own_shop(request.user)
    if shop is None:
        return redirect("shop_console:overview")
    group_buy_form = GroupBuyForm(request.POST if "group_buy" in request.POST else None)
    flash_sale_form = FlashSaleForm(request.POST if "flash_sale" in request.POST else None)
    presale_form = PresaleForm(
        request.POST if "presale" in request.POST else None, auto_id="presale_%s"
    )
    if request.method == "POST":
        created: object | None = None
        if group_buy_form.is_bound:
            created = submit(
                group_buy_form,
                lambda data: services.create_group_buy(
                    user=request.user,
                    shop=shop,
                    sku_id=data["sku"],
                    group_price=data["group_price"],
                    leader_price=data["leader_price"],
                    group_size=data["group_size"],
                    hours=data["hours"],
                    ends_at=data["ends_at"],
                ),
            )
        elif flash_sale_form.is_bound:
            created = submit(
                flash_sale_form,
                lambda data: services.create_flash_sale(
                    user=request.user,
                    shop=shop,
                    sku_id=data["sku"],
                    price=data["price"],
                    units=data["units"],
                    per_buyer_limit=data["per_buyer_limit"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    payment_minutes=data["payment_minutes"],
                ),
            )
        elif presale_form.is_bound:
            created = submit(
                presale_form,
                lambda data: services.create_presale(
                    user=request.user,
                    shop=shop,
                    sku_id=data["sku"],
                    price=data["price"],
                    deposit=data["deposit"],
                    balance_starts_at=data["balance_starts_at"],
                    balance_ends_at=data["balance_ends_at"],
                    ships_on=data["ships_on"],
                ),
            )
        if created is not None:
            return redirect("campaigns:console")
    if not flash_sale_form.is_bound:
        start = timezone.localtime().replace(second=0, microsecond=0)
        flash_sale_form = FlashSaleForm(initial={"starts_at": start, "payment_minutes": 15})
    found = queries.shop_campaigns(shop.pk)
    gmv_by_group_buy, gmv_by_sale = queries.campaign_gmv(shop.pk)
    now = clock.now()
    for group_buy in found["group_buys"]:
        group_buy.gmv = gmv_by_group_buy.get(group_buy.pk, 0)
        group_buy.is_open = group_buy.status == GroupBuy.Status.ACTIVE and group_buy.ends_at > now
    sales = found["flash_sales"]
    paid_by_sale = queries.flash_units_paid([sale.allotment_id for sale in sales])
    for sale in sales:
        sale.gmv = gmv_by_sale.get(sale.allotment_id, 0)
        sale.paid = paid_by_sale.get(sale.allotment_id, 0)
        sale.phase = rules.flash_phase(
            starts_at=sale.starts_at, ends_at=sale.ends_at, ended_at=sale.ended_at, now=now
        )
    context = {
        "shop": shop,
        "tab": "campaigns",
        "sku_choices": _sku_choices(shop),
        "group_buy_form": group_buy_form,
        "flash_sale_form": flash_sale_form,
        "group_buys": found["group_buys"],
        "flash_sales": sales,
        "presales": queries.shop_presales(shop.pk),
        "presale_form": presale_form,
        "currency": settings.KINSHOP_CURRENCY,
    }
    return render(request, "web/campaigns/console.html", context)


@login_required
@require_POST
def console_end_group_buy(request, group_buy_id: int):
    group_buy = _found(queries.group_buy, group_buy_id)
    if group_buy.shop.owner_id != request.user.pk:
        raise Http404  # another shop's group buy is not the keeper's to see here
    try:
        with transaction.atomic():
            services.end_group_buy(user=request.user, group_buy_id=group_buy.pk)
    except DomainError as error:
        messages.error(request, error_text(error))
    return redirect("campaigns:console")


@login_required
@require_POST
def console_end_flash_sale(request, sale_id: int):
    """End a flash sale now (a deal of a live room stops for its viewers too)."""
    sale = _found(queries.flash_sale, sale_id)
    if sale.shop.owner_id != request.user.pk:
        raise Http404  # another shop's flash sale is not the keeper's to see here
    try:
        with transaction.atomic():
            live.end_flash_sale(user=request.user, sale_id=sale.pk)
    except DomainError as error:
        messages.error(request, error_text(error))
    return redirect("campaigns:console")
