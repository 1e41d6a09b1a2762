"""The supplier console (/console/supplier/): products and stock, new
products, orders to ship, offline payments to confirm and refunds to decide.

Only the staff of a verified supplier reach its pages; everything they see is
filtered by their own supplier, resolved from the signed-in user. A person who
works for no supplier gets the application form; a pending one is told to wait."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Prefetch, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kinshop.catalog import queries, services
from kinshop.catalog.models import SKU, Product, Supplier
from kinshop.checkout import services as checkout
from kinshop.core.errors import DomainError
from kinshop.orders import queries as order_queries
from kinshop.orders import services as orders
from kinshop.orders.models import Fulfilment, Refund
from kinshop.payments import services as payments
from kinshop.payments.models import Payment
from kinshop.web.errors import error_text
from kinshop.web.forms import refusal, submit
from kinshop.web.supplier_console.forms import (
    TIER_ROWS,
    ApplySupplierForm,
    ProductForm,
    RefundDecisionForm,
    ShipForm,
    StockForm,
    parse_tiers,
    tier_field_names,
)
from kinshop.wholesale import queries as wholesale_queries
from kinshop.wholesale import services as wholesale_services

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from kinshop.orders.models import Order

PAGE_SIZE = 10


def supplier_staff_required(view):
    """Signed in and on the staff of a verified supplier. Anyone else lands on
    the console's front page, which tells them what to do next."""

    @login_required
    def wrapped(request, *args, **kwargs):
        supplier = queries.supplier_of(request.user)
        if supplier is None or not supplier.is_verified:
            return redirect("supplier_console:console")
        return view(request, supplier, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
@require_http_methods(["GET", "POST"])
def console(request):
    """Products with their SKUs and stock, or the application / waiting page."""
    supplier = queries.supplier_of(request.user)
    if supplier is None:
        return _apply(request)
    if not supplier.is_verified:
        return render(request, "web/supplier_console/waiting.html", {"supplier": supplier})
    products = (
        Product.objects.filter(supplier=supplier)
        .prefetch_related(Prefetch("skus", queryset=SKU.objects.order_by("id")))
        .order_by("-id")
    )
    page_obj = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/supplier_console/products.html",
        {"tab": "products", "supplier": supplier, "page_obj": page_obj},
    )


def _apply(request):
    form = ApplySupplierForm(request.POST or None)
    applied = submit(
        form,
        lambda data: services.apply_supplier(
            user=request.user,
            name=data["name"],
            license_no=data["license_no"],
            description=data["description"],
        ),
    )
    if applied is not None:
        messages.success(request, _("Thank you: an operator will verify your business."))
        return redirect("supplier_console:console")
    status = 422 if request.method == "POST" else 200
    return render(request, "web/supplier_console/apply.html", {"form": form}, status=status)


@supplier_staff_required
@require_http_methods(["GET", "POST"])
def new_product(request, supplier: Supplier):
    form = ProductForm(request.POST or None)
    product = submit(
        form,
        lambda data: services.create_product(
            user=request.user,
            title=data["title"],
            description=data["description"],
            commission_rate_bp=data["commission_rate"],
            skus=data["skus"],
        ),
    )
    if product is not None:
        messages.success(
            request, _("“%(title)s” is listed in the market.") % {"title": product.title}
        )
        return redirect("supplier_console:console")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "web/supplier_console/new_product.html",
        {"tab": "new", "supplier": supplier, "form": form},
        status=status,
    )


@supplier_staff_required
@require_POST
def adjust_stock(request, supplier: Supplier, sku_id: int):
    """Inline with HTMX (the stock cell is swapped), a plain redirect without."""
    sku = SKU.objects.filter(pk=sku_id, supplier=supplier).first()
    if sku is None:
        raise Http404
    form = StockForm(request.POST)
    sku_pk = sku.pk
    adjusted = submit(
        form,
        lambda data: services.adjust_stock(user=request.user, sku_id=sku_pk, delta=data["delta"]),
    )
    error = None if adjusted is not None else refusal(form)
    sku = adjusted or sku
    if _is_htmx(request):
        # 200 even for a refusal: HTMX swaps only successful answers, and the
        # cell carries the error inline.
        return render(
            request,
            "web/supplier_console/_stock_cell.html",
            {"sku": sku, "error": error, "saved": error is None},
        )
    if error:
        messages.error(request, f"{sku.name}: {error}")
    else:
        messages.success(
            request,
            _("%(name)s: stock is now %(stock)d.")
            % {
                "name": sku.name,
                "stock": sku.stock,
            },
        )
    return redirect("supplier_console:console")


class _SupplierOrderFlags(TypedDict):
    """What `orders_to_ship` annotates each order with."""

    to_ship: bool
    awaiting_offline: bool


@supplier_staff_required
def orders_to_ship(request, supplier: Supplier):
    """This supplier's parts of orders, those waiting to be shipped first."""
    mine = Fulfilment.objects.filter(order=OuterRef("pk"), supplier=supplier)
    status = request.GET.get("status", "")
    queryset = order_queries.orders_as(request.user, "supplier").annotate(
        to_ship=Exists(mine.filter(status=Fulfilment.Status.TO_SHIP)),
        awaiting_offline=Exists(
            Payment.objects.filter(
                order=OuterRef("pk"), provider="offline", status=Payment.Status.PENDING
            )
        ),
    )
    if status == "to_ship":
        queryset = queryset.filter(to_ship=True)
    queryset = queryset.order_by(
        Case(When(to_ship=True, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "-id",
    )
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    # Spelt out: the plugin's annotated type loses its fields through Paginator.
    orders_on_page: list[WithAnnotations[Order, _SupplierOrderFlags]] = list(page_obj)
    offline: dict[int, Payment] = {}
    for payment in Payment.objects.filter(
        order__in=[order.pk for order in orders_on_page if order.awaiting_offline],
        provider="offline",
        status=Payment.Status.PENDING,
    ).order_by("id"):
        offline.setdefault(payment.order_id, payment)
    rows = []
    for order in orders_on_page:
        part = next(
            (part for part in order.fulfilments.all() if part.supplier_id == supplier.pk), None
        )
        rows.append(
            {
                "order": order,
                "part": part,
                "lines": [line for line in order.lines.all() if line.supplier_id == supplier.pk],
                "offline_payment": offline.get(order.pk),
            }
        )
    return render(
        request,
        "web/supplier_console/orders.html",
        {
            "tab": "orders",
            "supplier": supplier,
            "rows": rows,
            "page_obj": page_obj,
            "status": status,
            "ship_form": ShipForm(),
        },
    )


@supplier_staff_required
@require_POST
def ship(request, supplier: Supplier, order_id: int):
    form = ShipForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A shipment needs a carrier and a tracking number."))
        return redirect("supplier_console:orders")
    shipped = submit(
        form,
        lambda data: orders.ship(
            user=request.user,
            order_id=order_id,
            carrier=data["carrier"],
            tracking_no=data["tracking_no"],
        ),
    )
    if shipped is None:
        messages.error(request, f"#{order_id}: {refusal(form)}")
    else:
        messages.success(request, _("Order #%(id)d is shipped.") % {"id": order_id})
    return redirect("supplier_console:orders")


@supplier_staff_required
@require_POST
def receive_offline(request, supplier: Supplier, payment_id: int):
    try:
        with transaction.atomic():
            payment = checkout.confirm_offline_payment(user=request.user, payment_id=payment_id)
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request, _("Payment for order #%(id)d received.") % {"id": payment.order_id}
        )
    return redirect("supplier_console:orders")


@supplier_staff_required
def refunds(request, supplier: Supplier):
    """Refunds this supplier decides, those waiting for a decision first."""
    queryset = (
        Refund.objects.filter(supplier=supplier)
        .select_related("order", "requested_by")
        .order_by(
            Case(
                When(status=Refund.Status.REQUESTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "-id",
        )
    )
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/supplier_console/refunds.html",
        {
            "tab": "refunds",
            "supplier": supplier,
            "page_obj": page_obj,
            "form": RefundDecisionForm(),
        },
    )


@supplier_staff_required
@require_POST
def decide_refund(request, supplier: Supplier, refund_id: int, decision: str):
    form = RefundDecisionForm(request.POST)
    if decision == "approve":
        decided = submit(
            form,
            lambda data: payments.approve_refund(
                user=request.user, refund_id=refund_id, restock=data["restock"], note=data["note"]
            ),
        )
    else:
        decided = submit(
            form,
            lambda data: orders.reject_refund(
                user=request.user, refund_id=refund_id, note=data["note"]
            ),
        )
    if decided is None:
        messages.error(request, f"#{refund_id}: {refusal(form)}")
    elif decision == "approve":
        messages.success(request, _("Refund #%(id)d approved.") % {"id": refund_id})
    else:
        messages.success(request, _("Refund #%(id)d rejected.") % {"id": refund_id})
    return redirect("supplier_console:refunds")


# -- wholesale: tiers, and where this supplier's wholesale units are --


@supplier_staff_required
def wholesale(request, supplier: Supplier):
    """Wholesale tiers per SKU, this supplier's retail reach, and the shops
    holding its units, those held longest first."""
    skus = list(
        SKU.objects.filter(supplier=supplier).select_related("product").order_by("product_id", "id")
    )
    tiers = wholesale_queries.tiers_of(sku.id for sku in skus)
    rows = []
    for sku in skus:
        sku_tiers = tiers.get(sku.id, [])
        rows.append(
            {
                "sku": sku,
                "tiers": sku_tiers,
                "fields": [
                    {
                        "quantity": tier_field_names(row)[0],
                        "price": tier_field_names(row)[1],
                        "tier": sku_tiers[row] if row < len(sku_tiers) else None,
                    }
                    for row in range(TIER_ROWS)
                ],
            }
        )
    return render(
        request,
        "web/supplier_console/wholesale.html",
        {
            "tab": "wholesale",
            "supplier": supplier,
            "rows": rows,
            "reach": wholesale_queries.retail_reach(supplier_id=supplier.id),
            "holdings": [
                row
                for row in wholesale_queries.holding_rows(
                    supplier_id=supplier.id, floor=settings.KINSHOP_HOLDING_FLOOR
                )
                if row.counts.held or row.counts.on_order
            ],
        },
    )


@supplier_staff_required
@require_POST
def set_tiers(request, supplier: Supplier, sku_id: int):
    sku = SKU.objects.filter(pk=sku_id, supplier=supplier).first()
    if sku is None:
        raise Http404
    tiers, problems = parse_tiers(request.POST)
    if not problems:
        try:
            with transaction.atomic():
                wholesale_services.set_tiers(
                    user=request.user,
                    sku_id=sku.id,
                    tiers=[wholesale_services.Tier(quantity, price) for quantity, price in tiers],
                )
        except DomainError as error:
            problems.append(error_text(error))
    if problems:
        messages.error(request, f"{sku.name}: {' '.join(problems)}")
    else:
        messages.success(request, _("%(name)s: wholesale prices saved.") % {"name": sku.name})
    return redirect("supplier_console:wholesale")
