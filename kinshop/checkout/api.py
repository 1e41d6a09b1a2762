"""The routes where money arrives (see `kinshop.checkout`): same paths and
operationIds as ever, now capturing and screening the paid order together."""

from __future__ import annotations

from typing import Literal

from django.db import transaction
from ninja import Field, Router, Schema

from kinshop.checkout import services as checkout
from kinshop.core.api import error_responses
from kinshop.payments.api import PaymentOut, WebhookOut, payment_out

router = Router(tags=["payments"])


class SandboxConfirmIn(Schema):
    """Optional: the sandbox bank account the payer paid from, reported to
    Kinshop as a real provider reports the payer's account."""

    payer_id: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_.:@-]*$")


@router.post(
    "/payments/{payment_id}/sandbox-confirm",
    operation_id="sandbox_confirm_payment",
    response={200: PaymentOut, **error_responses(400, 401, 403, 404, 409, 422)},
)
def sandbox_confirm_payment(request, payment_id: int, payload: SandboxConfirmIn | None = None):
    with transaction.atomic():
        payment = checkout.confirm_sandbox_payment(
            user=request.auth,
            payment_id=payment_id,
            payer_id=payload.payer_id if payload is not None else "",
        )
    return payment_out(payment)


@router.post(
    "/payments/{payment_id}/offline-received",
    operation_id="confirm_offline_payment",
    response={200: PaymentOut, **error_responses(401, 403, 404, 409)},
)
def confirm_offline_payment(request, payment_id: int):
    with transaction.atomic():
        payment = checkout.confirm_offline_payment(user=request.auth, payment_id=payment_id)
    return payment_out(payment)


@router.post(
    "/payments/webhooks/{provider}",
    operation_id="payment_webhook",
    auth=None,
    response={200: WebhookOut, **error_responses(400, 404, 409, 422)},
)
def payment_webhook(request, provider: Literal["sandbox", "wechatpay"]):
    """Signed notifications from payment providers. Replays change nothing."""
    with transaction.atomic():
        applied = checkout.receive_webhook(
            provider=provider, body=request.body, headers=dict(request.headers.items())
        )
    return {"code": "SUCCESS", "applied": applied}
