"""The payment pages: the buyer picks how to pay an order, and the sandbox
'bank' page that stands in for a provider in development."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kinshop.checkout import services as checkout
from kinshop.core.errors import DomainError
from kinshop.orders.models import Order
from kinshop.payments import services
from kinshop.payments.models import Payment
from kinshop.payments.providers import enabled_provider_names
from kinshop.web.errors import error_text
from kinshop.web.orders.forms import SandboxPayForm

# The methods a buyer can pick on the web, in the order they are offered.
WEB_PROVIDERS = ("wechatpay", "sandbox", "offline")


@login_required
@require_http_methods(["GET", "POST"])
def choose(request, order_id: int):
    """The buyer picks how to pay; the provider says where to go next."""
    order = (
        Order.objects.select_related("shop")
        .prefetch_related("lines")
        .filter(pk=order_id, buyer=request.user)
        .first()
    )
    if order is None:
        raise Http404
    # An unpaid order, or a pre-sale order whose deposit is in (its balance;
    # payments refuses it outside the balance window with a clear error).
    if order.status not in (Order.Status.PENDING_PAYMENT, Order.Status.AWAITING_BALANCE):
        return redirect("orders:detail", order_id=order.id)
    enabled = set(enabled_provider_names())
    providers = [name for name in WEB_PROVIDERS if name in enabled]
    if request.method == "POST":
        try:
            with transaction.atomic():
                payment = services.start_payment(
                    user=request.user, order_id=order.id, provider=request.POST.get("provider", "")
                )
            payment = services.open_payment(payment_id=payment.id)  # after commit
        except DomainError as error:
            messages.error(request, error_text(error))
            return redirect("orders:detail", order_id=order.id)
        if payment.pay_url:
            return redirect(payment.pay_url)
        messages.info(request, _("Pay by bank transfer or on delivery, as the shop tells you."))
        return redirect("orders:detail", order_id=order.id)
    return render(
        request, "web/orders/choose_payment.html", {"order": order, "providers": providers}
    )


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_pay(request, reference: str):
    """The sandbox 'bank' page: shows what is being paid; 'Pay' sends the same
    signed notification a real provider would."""
    payment = (
        Payment.objects.select_related("order", "order__shop").filter(reference=reference).first()
    )
    if (
        payment is None
        or payment.provider != "sandbox"
        or payment.order.buyer_id != request.user.id
    ):
        raise Http404
    form = SandboxPayForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not form.is_valid():
        return render(
            request,
            "web/orders/sandbox_pay.html",
            {"payment": payment, "order": payment.order, "form": form},
            status=422,
        )
    if request.method == "POST":
        try:
            with transaction.atomic():
                # Captured and screened for fraud together (kinshop.checkout).
                payment = checkout.confirm_sandbox_payment(
                    user=request.user,
                    payment_id=payment.pk,
                    payer_id=form.cleaned_data["payer_id"],
                )
        except DomainError as error:
            messages.error(request, error_text(error))
            return redirect(request.path)
        if payment.status == Payment.Status.CAPTURED:
            messages.success(request, _("Payment received. Thank you!"))
        else:
            messages.warning(
                request, _("This order was already closed: the money goes back to you.")
            )
        return redirect(f"/orders/{payment.order_id}/")
    return render(
        request,
        "web/orders/sandbox_pay.html",
        {"payment": payment, "order": payment.order, "form": form},
    )
