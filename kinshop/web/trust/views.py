"""Trust pages: a buyer reviews what they received and complains about an
order; suppliers and shopkeepers answer complaints and reply to reviews."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kinshop.core.errors import DomainError
from kinshop.orders.models import Order
from kinshop.trust import queries, services
from kinshop.trust.models import Complaint, Review
from kinshop.web import trust_cards
from kinshop.web.errors import error_text
from kinshop.web.forms import refusal, submit
from kinshop.web.trust.forms import ComplaintForm, ReviewForm, TextForm


def _own_order(request, order_id: int) -> Order:
    order = (
        Order.objects.filter(buyer=request.user, pk=order_id)
        .select_related("shop")
        .prefetch_related("lines")
        .first()
    )
    if order is None:
        raise Http404
    return order


@login_required
@require_http_methods(["GET", "POST"])
def review_order(request, order_id: int):
    """The buyer rates each line of a completed order, once."""
    order = _own_order(request, order_id)
    reviewed = dict(Review.objects.filter(order=order).values_list("line_id", "rating"))
    form = ReviewForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        review = submit(
            form,
            lambda data: services.create_review(
                user=request.user,
                order_id=order.pk,
                sku_id=data["sku"],
                rating=data["rating"],
                text=data["text"],
                images=data["images"],
            ),
        )
        if review is not None:
            trust_cards.forget_product(review.product_id)
            messages.success(request, _("Thanks for your review!"))
            return redirect("trust:review_order", order_id=order.pk)
    lines = [{"line": line, "rating": reviewed.get(line.pk)} for line in order.lines.all()]
    return render(
        request,
        "web/trust/review_order.html",
        {
            "order": order,
            "lines": lines,
            "form": form,
            "can_review": order.status == Order.Status.COMPLETED,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def complain(request, order_id: int):
    order = _own_order(request, order_id)
    form = ComplaintForm(request.POST or None)
    if request.method == "POST":
        complaint = submit(
            form,
            lambda data: services.file_complaint(
                user=request.user, order_id=order.pk, reason=data["reason"], text=data["text"]
            ),
        )
        if complaint is not None:
            messages.success(request, _("Complaint filed. The seller must answer within 48 hours."))
            return redirect("trust:complaint", complaint_id=complaint.pk)
    return render(request, "web/trust/complain.html", {"order": order, "form": form})


@login_required
def complaints(request):
    rows = queries.visible_complaints(request.user).select_related("order").order_by("-id")[:50]
    return render(request, "web/trust/complaints.html", {"complaints": rows})


def _visible_complaint(request, complaint_id: int) -> Complaint:
    complaint = (
        queries.visible_complaints(request.user)
        .select_related("order", "shop")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise Http404
    return complaint


@login_required
def complaint(request, complaint_id: int):
    found = _visible_complaint(request, complaint_id)
    is_party = found.buyer_id != request.user.id and (
        found.shop.owner_id == request.user.id
        or found.suppliers.filter(supplier_id__in=queries.supplier_ids_of(request.user)).exists()
    )
    return render(
        request,
        "web/trust/complaint.html",
        {
            "complaint": found,
            "can_answer": is_party and found.status in ("open", "answered", "escalated"),
            "form": TextForm(),
        },
    )


@login_required
@require_POST
def respond(request, complaint_id: int):
    _visible_complaint(request, complaint_id)
    form = TextForm(request.POST)
    done = submit(
        form,
        lambda data: services.respond_complaint(
            user=request.user, complaint_id=complaint_id, text=data["text"]
        ),
    )
    if done is None:
        messages.error(request, refusal(form))
    else:
        messages.success(request, _("Answer sent."))
    return redirect("trust:complaint", complaint_id=complaint_id)


@login_required
def reviews_inbox(request):
    """Reviews of the caller's supplier's products and of their shop, to reply to."""
    supplier_ids = queries.supplier_ids_of(request.user)
    shop = getattr(request.user, "shop", None)
    rows = Review.objects.none()
    if supplier_ids or shop is not None:
        from django.db.models import Q

        mine = Q(supplier_id__in=supplier_ids)
        if shop is not None:
            mine |= Q(shop_id=shop.pk)
        rows = (
            Review.objects.filter(mine)
            .select_related("line", "author")
            .prefetch_related("replies")
            .order_by("-id")[:50]
        )
    return render(request, "web/trust/reviews_inbox.html", {"reviews": rows, "form": TextForm()})


@login_required
@require_POST
def reply(request, review_id: int):
    form = TextForm(request.POST)
    if not form.is_valid():
        messages.error(request, refusal(form))
        return redirect("trust:reviews_inbox")
    try:
        with transaction.atomic():
            answer = services.reply_review(
                user=request.user, review_id=review_id, text=form.cleaned_data["text"]
            )
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        trust_cards.forget_product(answer.review.product_id)
        messages.success(request, _("Reply posted."))
    return redirect("trust:reviews_inbox")
