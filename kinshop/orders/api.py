from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.db import transaction
from ninja import Field, Query, Router, Schema, Status

from kinshop.core.api import Page, PageParams, error_responses, paginate
from kinshop.core.device import device_of
from kinshop.core.errors import NotFound
from kinshop.idempotency.api import idempotent
from kinshop.orders import queries, services
from kinshop.orders.models import Order, Refund
from kinshop.sharing.api import ShareLinkOut, link_out
from kinshop.sharing.cookie import share_code_of
from kinshop.sharing.models import ShareLink

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

router = Router(tags=["orders"])


class LineIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**62)
    quantity: int = Field(..., ge=1, le=999)


class AddressIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    phone: str = Field(..., min_length=6, max_length=30)  # stored normalised, at most 20
    region: str = Field(..., min_length=1, max_length=120)
    detail: str = Field(..., min_length=1, max_length=255)


class AddressOut(Schema):
    # Plain strings: a wholesale order placed without an address goes to the
    # shop, whose keeper may have no phone on file.
    name: str
    phone: str
    region: str
    detail: str


class OrderIn(Schema):
    shop: str = Field(..., min_length=1, max_length=30)
    lines: list[LineIn] = Field(..., min_length=1, max_length=50)
    address: AddressIn
    share_code: str | None = Field(None, max_length=16)


class LineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    supplier_id: int
    title: str
    sku_name: str
    quantity: int
    unit_price: int
    line_total: int
    refunded_amount: int
    commission_beneficiary_id: int | None = None
    is_wholesale: bool = False


class FulfilmentOut(Schema):
    id: int
    supplier_id: int
    supplier: str
    status: str
    carrier: str
    tracking_no: str
    shipped_at: dt.datetime | None = None


class OrderOut(Schema):
    id: int
    status: str
    shop: str
    buyer_id: int
    total: int
    refunded_amount: int
    currency: str
    is_wholesale: bool = False
    campaign: str = ""
    group_id: int | None = None
    awaiting_group: bool = False
    amount_due: int = 0
    deposit: int = 0
    balance_starts_at: dt.datetime | None = None
    balance_ends_at: dt.datetime | None = None
    ships_on: dt.date | None = None
    deposit_paid_at: dt.datetime | None = None
    address: AddressOut
    payment_deadline: dt.datetime
    created_at: dt.datetime
    paid_at: dt.datetime | None = None
    shipped_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    lines: list[LineOut]
    fulfilments: list[FulfilmentOut]


class ShipmentIn(Schema):
    carrier: str = Field(..., min_length=1, max_length=40)
    tracking_no: str = Field(..., min_length=1, max_length=60)


class RefundIn(Schema):
    amount: int = Field(..., ge=1, le=10**12)
    reason: str = Field(..., min_length=1, max_length=500)
    supplier_id: int | None = None


class RefundDecisionIn(Schema):
    restock: bool = False
    note: str = Field(default="", max_length=500)


class RefundOut(Schema):
    id: int
    order_id: int
    supplier_id: int | None = None
    amount: int
    reason: str
    status: str
    restock: bool
    created_at: dt.datetime
    decided_at: dt.datetime | None = None


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


def order_out(order: Order, viewer=None) -> dict:
    lines = list(order.lines.all())
    fulfilments = list(order.fulfilments.all())
    if viewer is not None and not (
        viewer.is_staff or viewer.id in (order.buyer_id, order.shop.owner_id)
    ):
        # A supplier's staff see only their own part of the order.
        own = set(queries.supplier_ids_of(viewer))
        lines = [line for line in lines if line.supplier_id in own]
        fulfilments = [part for part in fulfilments if part.supplier_id in own]
    return {
        "id": order.id,
        "status": order.status,
        "shop": order.shop.handle,
        "buyer_id": order.buyer_id,
        "total": order.total,
        "refunded_amount": order.refunded_amount,
        "currency": order.currency,
        "is_wholesale": order.is_wholesale,
        "campaign": order.campaign,
        "group_id": order.allotment_id if order.campaign == "group" else None,
        "awaiting_group": order.awaiting_group,
        "amount_due": order.amount_due,
        "deposit": order.deposit,
        "balance_starts_at": order.balance_starts_at,
        "balance_ends_at": order.balance_ends_at,
        "ships_on": order.ships_on,
        "deposit_paid_at": order.deposit_paid_at,
        "address": {
            "name": order.recipient_name,
            "phone": order.recipient_phone,
            "region": order.region,
            "detail": order.address_detail,
        },
        "payment_deadline": order.payment_deadline,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "completed_at": order.completed_at,
        "lines": [
            {
                "id": line.id,
                "sku_id": line.sku_id,
                "product_id": line.product_id,
                "supplier_id": line.supplier_id,
                "title": line.title,
                "sku_name": line.sku_name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
                "refunded_amount": line.refunded_amount,
                "commission_beneficiary_id": line.commission_beneficiary_id,
                "is_wholesale": line.is_wholesale,
            }
            for line in lines
        ],
        "fulfilments": [
            {
                "id": part.id,
                "supplier_id": part.supplier_id,
                "supplier": part.supplier.name,
                "status": part.status,
                "carrier": part.carrier,
                "tracking_no": part.tracking_no,
                "shipped_at": part.shipped_at,
            }
            for part in fulfilments
        ],
    }


def refund_out(refund: Refund) -> dict:
    return {
        "id": refund.id,
        "order_id": refund.order_id,
        "supplier_id": refund.supplier_id,
        "amount": refund.amount,
        "reason": refund.reason,
        "status": refund.status,
        "restock": refund.restock,
        "created_at": refund.created_at,
        "decided_at": refund.decided_at,
    }


def _visible(request, order_id: int) -> dict:
    order = queries.visible_order(request.auth, order_id)
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    return order_out(order, request.auth)


@router.post(
    "/orders",
    operation_id="create_order",
    response={201: OrderOut, 200: OrderOut, **error_responses(400, 401, 404, 409, 422)},
)
def create_order(request, payload: OrderIn):
    def place():
        order = services.place_order(
            buyer=request.auth,
            shop=payload.shop,  # read with the SKUs it sells, in one query
            lines=[services.LineRequest(line.sku_id, line.quantity) for line in payload.lines],
            address=services.Address(**payload.address.dict()),
            # A browser that arrived through /s/<code> carries the code in its session.
            share_code=payload.share_code or share_code_of(request),
            device_id=device_of(request),
        )
        return order_out(order)  # as written: its lines and parts are in memory

    return idempotent(
        request,
        operation="create_order",
        payload=payload,
        schema=OrderOut,
        status=201,
        action=place,
    )


@router.get(
    "/orders/{order_id}",
    operation_id="get_order",
    response={200: OrderOut, **error_responses(401, 404)},
)
def get_order(request, order_id: int):
    return _visible(request, order_id)


@router.get(
    "/orders",
    operation_id="list_orders",
    response={200: Page[OrderOut], **error_responses(401, 422)},
)
def list_orders(
    request,
    page: Query[PageParams],
    as_: Literal["buyer", "shop", "supplier"] = Query("buyer", alias="as"),
    status: str = Query("", max_length=20),
):
    orders = queries.orders_as(request.auth, as_)
    if status:
        orders = orders.filter(status=status)
    return paginate(orders, page, lambda order: order_out(order, request.auth))


@router.post(
    "/orders/{order_id}/shipments",
    operation_id="ship_order",
    response={201: FulfilmentOut, **error_responses(401, 403, 404, 409, 422)},
)
def ship_order(request, order_id: int, payload: ShipmentIn):
    with transaction.atomic():
        part = services.ship(
            user=request.auth,
            order_id=order_id,
            carrier=payload.carrier,
            tracking_no=payload.tracking_no,
        )
    return Status(
        201,
        {
            "id": part.id,
            "supplier_id": part.supplier_id,
            "supplier": part.supplier.name,
            "status": part.status,
            "carrier": part.carrier,
            "tracking_no": part.tracking_no,
            "shipped_at": part.shipped_at,
        },
    )


@router.post(
    "/orders/{order_id}/confirm",
    operation_id="confirm_receipt",
    response={200: OrderOut, **error_responses(401, 403, 404, 409)},
)
def confirm_receipt(request, order_id: int):
    with transaction.atomic():
        services.confirm_receipt(user=request.auth, order_id=order_id)
    return _visible(request, order_id)


@router.post(
    "/orders/{order_id}/cancel",
    operation_id="cancel_order",
    response={200: OrderOut, **error_responses(401, 403, 404, 409, 422)},
)
def cancel_order(request, order_id: int, payload: CancelIn | None = None):
    with transaction.atomic():
        services.cancel_order(
            user=request.auth, order_id=order_id, reason=payload.reason if payload else ""
        )
    return _visible(request, order_id)


@router.post(
    "/orders/{order_id}/refunds",
    operation_id="request_refund",
    response={201: RefundOut, 200: RefundOut, **error_responses(400, 401, 403, 404, 409, 422)},
)
def request_refund(request, order_id: int, payload: RefundIn):

    def ask():
        refund = services.request_refund(
            user=request.auth,
            order_id=order_id,
            amount=payload.amount,
            reason=payload.reason,
            supplier_id=payload.supplier_id,
        )
        return refund_out(refund)

    return idempotent(
        request,
        operation=f"request_refund:{order_id}",
        payload=payload,
        schema=RefundOut,
        status=201,
        action=ask,
    )


@router.get(
    "/refunds",
    operation_id="list_refunds",
    response={200: Page[RefundOut], **error_responses(401, 422)},
)
def list_refunds(request, page: Query[PageParams], status: str = Query("", max_length=12)):
    refunds = queries.refunds_visible_to(request.auth).order_by("-id")
    if status:
        refunds = refunds.filter(status=status)
    return paginate(refunds, page, refund_out)


@router.get(
    "/refunds/{refund_id}",
    operation_id="get_refund",
    response={200: RefundOut, **error_responses(401, 404)},
)
def get_refund(request, refund_id: int):
    refund = queries.refunds_visible_to(request.auth).filter(pk=refund_id).first()
    if refund is None:
        raise NotFound("No such refund.", code="refund_not_found")
    return refund_out(refund)


@router.post(
    "/refunds/{refund_id}/reject",
    operation_id="reject_refund",
    response={200: RefundOut, **error_responses(401, 403, 404, 409, 422)},
)
def reject_refund(request, refund_id: int, payload: RefundDecisionIn | None = None):
    decision = payload or RefundDecisionIn()
    with transaction.atomic():
        refund = services.reject_refund(user=request.auth, refund_id=refund_id, note=decision.note)
    return refund_out(refund)


# ---- share links ---------------------------------------------------------------
# The sharer's links with what they brought: orders are counted here, where the
# lines are, so that sharing never reads orders.


class MyShareOut(ShareLinkOut):
    shop: str
    product_id: int | None
    clicks: int
    orders: int
    commission: int
    currency: str


def my_share_out(link: WithAnnotations[ShareLink, queries.ShareStats]) -> dict:
    return {
        **link_out(link),
        "shop": link.shop.handle,
        "product_id": link.product_id,
        "clicks": link.click_count,
        "orders": link.order_count,
        "commission": link.commission_total,
        "currency": settings.KINSHOP_CURRENCY,
    }


@router.get(
    "/me/shares",
    operation_id="list_my_shares",
    response={200: Page[MyShareOut], **error_responses(401)},
)
def list_my_shares(request, params: Query[PageParams]):
    return paginate(queries.my_shares(request.auth), params, my_share_out)
