"""The trust API: reviews, trust cards, complaints and the fraud queue."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, Literal

from django.db import transaction
from ninja import Field, Query, Router, Schema, Status

from kinshop.catalog.models import Product, Supplier
from kinshop.core.api import Page, PageParams, error_responses, paginate
from kinshop.core.errors import InvalidInput, NotFound
from kinshop.shops import queries as shop_queries
from kinshop.trust import queries, services
from kinshop.trust.models import Complaint, FraudFlag, Review

router = Router(tags=["trust"])

MAX_ID = 2**62


class ReviewIn(Schema):
    sku_id: int = Field(..., ge=1, le=MAX_ID)
    rating: int = Field(..., ge=1, le=5)
    text: str = Field(..., min_length=1, max_length=2000)
    # Each image as base64 (a `data:image/...;base64,` prefix is allowed).
    images: list[str] = Field(default_factory=list, max_length=6)


class TextIn(Schema):
    text: str = Field(..., min_length=1, max_length=2000)


class ReplyOut(Schema):
    id: int
    role: str
    text: str
    created_at: dt.datetime


class ReviewOut(Schema):
    id: int
    order_id: int
    line_id: int
    product_id: int
    sku_id: int
    author: str
    rating: int
    text: str
    images: list[str]
    follow_up: str
    follow_up_at: dt.datetime | None
    replies: list[ReplyOut]
    verified_purchase: bool
    is_refunded: bool
    created_at: dt.datetime


class ReviewPage(Page[ReviewOut]):
    distribution: dict[str, int]


class RatingOut(Schema):
    average: float
    count: int
    bayesian: float


class TrustOut(Schema):
    score: int
    rating: RatingOut
    on_time_shipping_rate: int
    refund_rate: int
    upheld_complaint_rate: int
    penalty_points: int
    is_verified: bool


class ComplaintIn(Schema):
    reason: Literal[
        "not_received", "not_as_described", "damaged", "counterfeit", "service", "other"
    ]
    text: str = Field(..., min_length=1, max_length=2000)


class MessageOut(Schema):
    id: int
    role: str
    text: str
    created_at: dt.datetime


class ComplaintOut(Schema):
    id: int
    order_id: int
    reason: str
    status: str
    respond_by: dt.datetime
    created_at: dt.datetime
    refund_id: int | None
    penalty_points: int
    messages: list[MessageOut]


class DecisionIn(Schema):
    upheld: bool
    note: str = Field(..., min_length=1, max_length=500)
    refund_amount: int | None = Field(None, ge=1, le=10**12)
    penalty_points: int | None = Field(None, ge=0, le=100)
    penalize: Literal["supplier", "shop"] = "supplier"


class FlagOut(Schema):
    id: int
    kind: str
    status: str
    order_ids: list[int]
    user_ids: list[int]
    line_ids: list[int]
    evidence: dict[str, Any]
    note: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None


class ResolveIn(Schema):
    decision: Literal["release", "void"]
    note: str = Field("", max_length=500)


def review_out(review: Review) -> dict:
    return {
        "id": review.pk,
        "order_id": review.order_id,
        "line_id": review.line_id,
        "product_id": review.product_id,
        "sku_id": review.line.sku_id,
        # Only a first letter: reviews are public, buyers are not.
        "author": f"{review.author.username[:1]}***",
        "rating": review.rating,
        "text": review.text,
        "images": [picture.image.url for picture in review.images.all()],
        "follow_up": review.follow_up,
        "follow_up_at": review.follow_up_at,
        "replies": [
            {"id": reply.pk, "role": reply.role, "text": reply.text, "created_at": reply.created_at}
            for reply in review.replies.all()
        ],
        "verified_purchase": True,  # by construction: a review hangs on a bought line
        "is_refunded": review.line.refunded_amount > 0,
        "created_at": review.created_at,
    }


def complaint_out(complaint: Complaint) -> dict:
    return {
        "id": complaint.pk,
        "order_id": complaint.order_id,
        "reason": complaint.reason,
        "status": complaint.status,
        "respond_by": complaint.respond_by,
        "created_at": complaint.created_at,
        "refund_id": complaint.refund_id,
        "penalty_points": complaint.penalty_points,
        "messages": [
            {"id": m.pk, "role": m.role, "text": m.text, "created_at": m.created_at}
            for m in complaint.messages.all()
        ],
    }


def flag_out(flag: FraudFlag) -> dict:
    return {
        "id": flag.pk,
        "kind": flag.kind,
        "status": flag.status,
        "order_ids": flag.order_ids,
        "user_ids": flag.user_ids,
        "line_ids": sorted(line.pk for line in flag.lines.all()),
        "evidence": flag.evidence,
        "note": flag.note,
        "created_at": flag.created_at,
        "resolved_at": flag.resolved_at,
    }


def _decode_images(images: list[str]) -> list[bytes]:
    decoded = []
    for text in images:
        if text.startswith("data:"):
            text = text.partition(",")[2]
        try:
            decoded.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInput("An image is not valid base64.", code="invalid_image") from None
    return decoded


def _review_by_id(review_id: int) -> dict:
    review = (
        Review.objects.select_related("line", "author")
        .prefetch_related("images", "replies")
        .get(pk=review_id)
    )
    return review_out(review)


# ---- reviews --------------------------------------------------------------------


@router.post(
    "/orders/{order_id}/reviews",
    operation_id="create_review",
    response={201: ReviewOut, **error_responses(401, 403, 404, 409, 422)},
)
def create_review(request, order_id: int, payload: ReviewIn):
    images = _decode_images(payload.images)
    with transaction.atomic():
        review = services.create_review(
            user=request.auth,
            order_id=order_id,
            sku_id=payload.sku_id,
            rating=payload.rating,
            text=payload.text,
            images=images,
        )
    return Status(201, _review_by_id(review.pk))


@router.post(
    "/reviews/{review_id}/follow-ups",
    operation_id="follow_up_review",
    response={201: ReviewOut, **error_responses(401, 403, 404, 409, 422)},
)
def follow_up_review(request, review_id: int, payload: TextIn):
    with transaction.atomic():
        services.follow_up_review(user=request.auth, review_id=review_id, text=payload.text)
    return Status(201, _review_by_id(review_id))


@router.post(
    "/reviews/{review_id}/replies",
    operation_id="reply_review",
    response={201: ReplyOut, **error_responses(401, 403, 404, 422)},
)
def reply_review(request, review_id: int, payload: TextIn):
    with transaction.atomic():
        reply = services.reply_review(user=request.auth, review_id=review_id, text=payload.text)
    return Status(
        201,
        {"id": reply.pk, "role": reply.role, "text": reply.text, "created_at": reply.created_at},
    )


@router.get(
    "/products/{product_id}/reviews",
    operation_id="list_reviews",
    auth=None,
    response={200: ReviewPage, **error_responses(404)},
)
def list_reviews(request, product_id: int, page: Query[PageParams]):
    if not Product.objects.filter(pk=product_id).exists():
        raise NotFound("No such product.", code="product_not_found")
    result = paginate(queries.product_reviews(product_id), page, review_out)
    result["distribution"] = queries.rating_distribution(product_id)
    return result


# ---- trust cards ------------------------------------------------------------------


@router.get(
    "/suppliers/{supplier_id}/trust",
    operation_id="get_supplier_trust",
    auth=None,
    response={200: TrustOut, **error_responses(404)},
)
def get_supplier_trust(request, supplier_id: int):
    supplier = Supplier.objects.filter(pk=supplier_id).first()
    if supplier is None:
        raise NotFound("No such supplier.", code="supplier_not_found")
    return queries.trust_summary(
        queries.supplier_signals(supplier.pk), is_verified=supplier.is_verified
    )


@router.get(
    "/shops/{handle}/trust",
    operation_id="get_shop_trust",
    auth=None,
    response={200: TrustOut, **error_responses(404)},
)
def get_shop_trust(request, handle: str):
    shop = shop_queries.shop_by_handle(handle[:30])
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    return queries.shop_summary(shop.pk, is_suspended=shop.is_suspended)


# ---- complaints --------------------------------------------------------------------


def _complaint(request, complaint_id: int) -> dict:
    complaint = queries.visible_complaints(request.auth).filter(pk=complaint_id).first()
    if complaint is None:
        raise NotFound("No such complaint.", code="complaint_not_found")
    return complaint_out(complaint)


@router.post(
    "/orders/{order_id}/complaints",
    operation_id="file_complaint",
    response={201: ComplaintOut, **error_responses(401, 403, 404, 409, 422)},
)
def file_complaint(request, order_id: int, payload: ComplaintIn):
    with transaction.atomic():
        complaint = services.file_complaint(
            user=request.auth, order_id=order_id, reason=payload.reason, text=payload.text
        )
    return Status(201, _complaint(request, complaint.pk))


@router.get(
    "/complaints/{complaint_id}",
    operation_id="get_complaint",
    response={200: ComplaintOut, **error_responses(401, 404)},
)
def get_complaint(request, complaint_id: int):
    return _complaint(request, complaint_id)


@router.get(
    "/complaints",
    operation_id="list_complaints",
    response={200: Page[ComplaintOut], **error_responses(401)},
)
def list_complaints(
    request,
    page: Query[PageParams],
    status: Literal["", "open", "answered", "escalated", "upheld", "dismissed"] = "",
):
    complaints = queries.visible_complaints(request.auth).order_by("-id")
    if status:
        complaints = complaints.filter(status=status)
    return paginate(complaints, page, complaint_out)


@router.post(
    "/complaints/{complaint_id}/responses",
    operation_id="respond_complaint",
    response={201: ComplaintOut, **error_responses(401, 403, 404, 409, 422)},
)
def respond_complaint(request, complaint_id: int, payload: TextIn):
    with transaction.atomic():
        services.respond_complaint(user=request.auth, complaint_id=complaint_id, text=payload.text)
    return Status(201, _complaint(request, complaint_id))


@router.post(
    "/complaints/{complaint_id}/decision",
    operation_id="decide_complaint",
    response={200: ComplaintOut, **error_responses(401, 403, 404, 409, 422)},
)
def decide_complaint(request, complaint_id: int, payload: DecisionIn):
    with transaction.atomic():
        services.decide_complaint(
            user=request.auth,
            complaint_id=complaint_id,
            upheld=payload.upheld,
            note=payload.note,
            refund_amount=payload.refund_amount,
            penalty_points=payload.penalty_points,
            penalize=payload.penalize,
        )
    return _complaint(request, complaint_id)


# ---- fraud flags ------------------------------------------------------------------


@router.get(
    "/fraud/flags",
    operation_id="list_fraud_flags",
    response={200: Page[FlagOut], **error_responses(401, 403)},
)
def list_fraud_flags(
    request,
    page: Query[PageParams],
    status: Literal["", "open", "released", "voided"] = "",
    kind: Literal["", "linked_identity", "order_ring", "refund_abuse", "group_self_fill"] = "",
):
    services.require_operator(request.auth)
    flags = FraudFlag.objects.prefetch_related("lines").order_by("-id")
    if status:
        flags = flags.filter(status=status)
    if kind:
        flags = flags.filter(kind=kind)
    return paginate(flags, page, flag_out)


@router.post(
    "/fraud/flags/{flag_id}/resolve",
    operation_id="resolve_fraud_flag",
    response={200: FlagOut, **error_responses(401, 403, 404, 409, 422)},
)
def resolve_fraud_flag(request, flag_id: int, payload: ResolveIn):
    with transaction.atomic():
        flag = services.resolve_fraud_flag(
            user=request.auth, flag_id=flag_id, decision=payload.decision, note=payload.note
        )
    return flag_out(FraudFlag.objects.prefetch_related("lines").get(pk=flag.pk))
