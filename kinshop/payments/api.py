from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db import transaction
from ninja import Field, Router, Schema

from kinshop.core.api import error_responses
from kinshop.idempotency.api import idempotent
from kinshop.orders.api import RefundDecisionIn, RefundOut, refund_out
from kinshop.payments import services
from kinshop.payments.models import Payment

router = Router(tags=["payments"])


class PaymentIn(Schema):
    provider: Literal["sandbox", "offline", "wechatpay"]


class PaymentOut(Schema):
    id: int
    order_id: int
    provider: str
    amount: int
    currency: str
    status: str
    reference: str
    pay_url: str | None = None
    created_at: dt.datetime
    captured_at: dt.datetime | None = None


class WebhookOut(Schema):
    code: str
    applied: int = Field(0)


def payment_out(payment: Payment) -> dict:
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "provider": payment.provider,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status,
        "reference": payment.reference,
        "pay_url": payment.pay_url or None,
        "created_at": payment.created_at,
        "captured_at": payment.captured_at,
    }


@router.post(
    "/orders/{order_id}/payments",
    operation_id="pay_order",
    response={201: PaymentOut, 200: PaymentOut, **error_responses(400, 401, 403, 404, 409, 422)},
)
def pay_order(request, order_id: int, payload: PaymentIn):
    started: list[Payment] = []

    def start():
        payment = services.start_payment(
            user=request.auth, order_id=order_id, provider=payload.provider
        )
        started.append(payment)
        return payment_out(payment)

    def open_at_provider(kept: dict) -> dict:
        # After commit: the provider is asked where to pay with no row locked.
        # A repeat's answer is the first request's payment: read, not `started`.
        payment = started[-1] if started and started[-1].pk == kept["id"] else None
        return payment_out(services.open_payment(payment_id=kept["id"], payment=payment))

    return idempotent(
        request,
        operation=f"pay_order:{order_id}",
        payload=payload,
        schema=PaymentOut,
        status=201,
        action=start,
        then=open_at_provider,
    )


@router.get(
    "/payments/{payment_id}",
    operation_id="get_payment",
    response={200: PaymentOut, **error_responses(401, 404)},
)
def get_payment(request, payment_id: int):
    return payment_out(services.visible_payment(request.auth, payment_id))


@router.post(
    "/refunds/{refund_id}/approve",
    operation_id="approve_refund",
    response={200: RefundOut, **error_responses(401, 403, 404, 409, 422)},
)
def approve_refund(request, refund_id: int, payload: RefundDecisionIn | None = None):
    decision = payload or RefundDecisionIn()
    with transaction.atomic():
        refund = services.approve_refund(
            user=request.auth, refund_id=refund_id, restock=decision.restock, note=decision.note
        )
    # After commit the provider refund has been tried once already (the outbox
    # runs eagerly): answer with where the refund stands now.
    refund.refresh_from_db()
    return refund_out(refund)
