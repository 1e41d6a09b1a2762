from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kinshop.core.errors import DomainError
from kinshop.payments import services
from kinshop.payments.models import Payment


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
    if request.method == "POST":
        try:
            with transaction.atomic():
                payment = services.sandbox_confirm(user=request.user, payment_id=payment.pk)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(request.path)
        if payment.status == Payment.Status.CAPTURED:
            messages.success(request, _("Payment received. Thank you!"))
        else:
            messages.warning(
                request, _("This order was already closed: the money goes back to you.")
            )
        return redirect(request.GET.get("next") or f"/orders/{payment.order_id}/")
    return render(
        request, "payments/sandbox_pay.html", {"payment": payment, "order": payment.order}
    )
