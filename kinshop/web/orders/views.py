"""The buyer's pages: cart, checkout, my orders and an order's tracking page.

Each view parses the request, calls one service inside a transaction and
renders; what may be bought, at what price and when is the services' to say."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kinshop.catalog.models import SKU, ProductImage
from kinshop.core import clock
from kinshop.core.device import device_of
from kinshop.core.errors import DomainError
from kinshop.orders import services
from kinshop.orders.models import Fulfilment, Order, OrderLine, OrderStatusChange, Refund
from kinshop.orders.rules import after_sales_open
from kinshop.sharing.cookie import share_code_of
from kinshop.shops.models import SelectionPrice, Shop
from kinshop.web import traffic
from kinshop.web.errors import error_text
from kinshop.web.forms import refusal, submit
from kinshop.web.orders.cart import Cart
from kinshop.web.orders.forms import AddressForm, CartLineForm, RefundForm

# ---- cart ---------------------------------------------------------------------


def _cart_groups(cart: Cart, only: str | None = None) -> list[dict]:
    """The cart, one group per shop, priced at each shop's current prices.
    Three queries whatever the number of shops and lines."""
    handles = [only] if only else cart.handles()
    wanted = {handle: cart.lines(handle) for handle in handles if cart.lines(handle)}
    if not wanted:
        return []
    sku_ids = {sku_id for lines in wanted.values() for sku_id in lines}
    shops = {shop.handle: shop for shop in Shop.objects.filter(handle__in=wanted, is_active=True)}
    skus = {
        sku.id: sku
        for sku in SKU.objects.filter(pk__in=sku_ids)
        .select_related("product")
        .prefetch_related(
            Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id"))
        )
    }
    prices = {
        (shop_id, sku_id): price
        for shop_id, sku_id, price in SelectionPrice.objects.filter(
            shop__in=shops.values(), sku_id__in=sku_ids
        ).values_list("shop_id", "sku_id", "retail_price")
    }
    groups = []
    for handle, lines in wanted.items():
        shop = shops.get(handle)
        rows, subtotal = [], 0
        for sku_id, quantity in lines.items():
            sku = skus.get(sku_id)
            price = prices.get((shop.id, sku_id)) if shop and sku else None
            images = list(sku.product.images.all()) if sku else []
            line_total = price * quantity if price is not None else 0
            subtotal += line_total
            rows.append(
                {
                    "sku_id": sku_id,
                    "sku": sku,
                    "image": images[0] if images else None,
                    "price": price,
                    "quantity": quantity,
                    "line_total": line_total,
                    "is_for_sale": price is not None,
                }
            )
        groups.append(
            {
                "handle": handle,
                "shop": shop,
                "rows": rows,
                "subtotal": subtotal,
                "can_check_out": shop is not None and all(row["is_for_sale"] for row in rows),
            }
        )
    return groups


@require_GET
def cart_page(request):
    return render(request, "web/orders/cart.html", {"groups": _cart_groups(Cart(request.session))})


@require_POST
def cart_add(request):
    """Put a SKU the shop sells into the cart; 'buy now' goes on to checkout."""
    form = CartLineForm(request.POST)
    on_sale = (
        SelectionPrice.objects.filter(
            shop__handle=form.cleaned_data["shop"],
            shop__is_active=True,
            sku_id=form.cleaned_data["sku"],
        )
        .values_list("shop_id", "sku__product_id")
        .first()
        if form.is_valid()
        else None
    )
    if on_sale is None:
        messages.error(request, _("Choose an option first."))
        return redirect(request.headers.get("Referer") or reverse("orders:cart"))
    handle, sku_id = form.cleaned_data["shop"], form.cleaned_data["sku"]
    cart = Cart(request.session)
    cart.add(handle, sku_id, form.cleaned_data["quantity"])
    traffic.record(request, "cart", shop_id=on_sale[0], product_id=on_sale[1])
    if request.POST.get("action") == "buy":
        return redirect(f"{reverse('orders:checkout')}?shop={handle}")
    messages.success(request, _("Added to your cart."))
    return redirect(request.headers.get("Referer") or reverse("orders:cart"))


def _cart_response(request, cart: Cart):
    if request.headers.get("HX-Request"):
        return render(request, "web/orders/_cart_body.html", {"groups": _cart_groups(cart)})
    return redirect("orders:cart")


@require_POST
def cart_update(request):
    cart = Cart(request.session)
    form = CartLineForm(request.POST)
    if form.is_valid():
        line = form.cleaned_data
        cart.set(line["shop"], line["sku"], line["quantity"])
    return _cart_response(request, cart)


@require_POST
def cart_remove(request):
    cart = Cart(request.session)
    form = CartLineForm(request.POST)
    if form.is_valid():
        cart.remove(form.cleaned_data["shop"], form.cleaned_data["sku"])
    return _cart_response(request, cart)


# ---- checkout -----------------------------------------------------------------


def _last_address(user) -> dict[str, str]:
    """Where this buyer's previous order went, to fill the form in."""
    order = Order.objects.filter(buyer=user).order_by("-id").first()
    if order is None:
        return {"phone": user.phone}
    return {
        "name": order.recipient_name,
        "phone": order.recipient_phone,
        "region": order.region,
        "detail": order.address_detail,
    }


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    handle = request.GET.get("shop") or request.POST.get("shop") or ""
    cart = Cart(request.session)
    if not handle and len(cart.handles()) == 1:
        handle = cart.handles()[0]
    groups = _cart_groups(cart, only=handle) if handle else []
    if not groups:
        messages.info(request, _("Your cart for this shop is empty."))
        return redirect("orders:cart")
    group = groups[0]
    if group["shop"] is None:
        messages.error(request, _("This shop is closed."))
        return redirect("orders:cart")
    form = AddressForm(request.POST or None, initial=_last_address(request.user))
    order = submit(
        form,
        lambda data: services.place_order(
            buyer=request.user,
            shop=group["shop"],
            lines=[
                services.LineRequest(sku_id=sku_id, quantity=quantity)
                for sku_id, quantity in cart.lines(handle).items()
            ],
            address=services.Address(**data),
            share_code=share_code_of(request),
            device_id=device_of(request),
        ),
    )
    if order is not None:
        cart.clear(handle)
        return redirect("payments:choose", order_id=order.id)
    return render(request, "web/orders/checkout.html", {"group": group, "form": form})


# ---- my orders ----------------------------------------------------------------

TABS = [
    ("", gettext_lazy("All")),
    (Order.Status.PENDING_PAYMENT, gettext_lazy("To pay")),
    (Order.Status.PAID, gettext_lazy("To ship")),
    (Order.Status.SHIPPED, gettext_lazy("On the way")),
    (Order.Status.COMPLETED, gettext_lazy("Completed")),
    (Order.Status.REFUNDED, gettext_lazy("Refunded")),
    (Order.Status.CANCELLED, gettext_lazy("Cancelled")),
]
PAGE_SIZE = 10


def _lines_with_images():
    return Prefetch(
        "lines",
        queryset=OrderLine.objects.select_related("product").prefetch_related(
            Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id"))
        ),
    )


@login_required
@require_GET
def my_orders(request):
    status = request.GET.get("status", "")
    if status not in Order.Status.values:
        status = ""
    orders = (
        Order.objects.filter(buyer=request.user)
        .select_related("shop")
        .prefetch_related(_lines_with_images())
        .order_by("-id")
    )
    if status:
        orders = orders.filter(status=status)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "web/orders/my_orders.html", {"page": page, "tabs": TABS, "status": status}
    )


STEPS = [
    (Order.Status.PENDING_PAYMENT, gettext_lazy("Placed")),
    (Order.Status.PAID, gettext_lazy("Paid")),
    (Order.Status.SHIPPED, gettext_lazy("Shipped")),
    (Order.Status.COMPLETED, gettext_lazy("Received")),
]


def _own_order(request, order_id: int) -> Order:
    order = (
        Order.objects.filter(buyer=request.user, pk=order_id)
        .select_related("shop")
        .prefetch_related(
            _lines_with_images(),
            Prefetch(
                "fulfilments",
                queryset=Fulfilment.objects.select_related("supplier").order_by("id"),
            ),
            Prefetch("history", queryset=OrderStatusChange.objects.order_by("at", "id")),
            Prefetch("refunds", queryset=Refund.objects.order_by("-id")),
            "payments",
        )
        .first()
    )
    if order is None:
        raise Http404
    return order


@login_required
@require_GET
def order_detail(request, order_id: int):
    order = _own_order(request, order_id)
    reached = {change.to_status: change.at for change in order.history.all()}
    steps = [
        {"status": code, "label": label, "at": reached.get(code), "done": code in reached}
        for code, label in STEPS
    ]
    is_refundable = order.status in {
        Order.Status.PAID,
        Order.Status.SHIPPED,
        Order.Status.COMPLETED,
    } and after_sales_open(
        completed_at=order.completed_at, now=clock.now(), days=settings.KINSHOP_AFTER_SALES_DAYS
    )
    payments = list(order.payments.all())
    labels = dict(Order.Status.choices)
    return render(
        request,
        "web/orders/order_detail.html",
        {
            "order": order,
            "steps": steps,
            "history": [
                {
                    "at": change.at,
                    "from_label": labels.get(change.from_status, change.from_status),
                    "to_label": labels.get(change.to_status, change.to_status),
                }
                for change in order.history.all()
            ],
            "refunds": list(order.refunds.all()),
            "is_refundable": is_refundable,
            "refund_form": RefundForm(),
            "offline_pending": any(
                p.provider == "offline" and p.status == "pending" for p in payments
            ),
            "now": clock.now(),
        },
    )


def _act(request, order_id: int, action, success: str):
    try:
        with transaction.atomic():
            action()
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, success)
    return redirect("orders:detail", order_id=order_id)


@login_required
@require_POST
def cancel(request, order_id: int):
    _own_order(request, order_id)
    return _act(
        request,
        order_id,
        lambda: services.cancel_order(user=request.user, order_id=order_id),
        _("Order cancelled."),
    )


@login_required
@require_POST
def confirm_receipt(request, order_id: int):
    _own_order(request, order_id)
    return _act(
        request,
        order_id,
        lambda: services.confirm_receipt(user=request.user, order_id=order_id),
        _("Thanks! The order is complete."),
    )


@login_required
@require_POST
def request_refund(request, order_id: int):
    _own_order(request, order_id)
    form = RefundForm(request.POST)
    refund = submit(
        form,
        lambda data: services.request_refund(
            user=request.user, order_id=order_id, amount=data["amount"], reason=data["reason"]
        ),
    )
    if refund is None:
        messages.error(request, refusal(form))
    else:
        messages.success(request, _("Refund requested. The supplier will answer soon."))
    return redirect("orders:detail", order_id=order_id)
