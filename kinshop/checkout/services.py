"""The capture entry points: payments first, then the paid order's screening."""

from __future__ import annotations

from collections.abc import Iterable

from kinshop.payments import services as payments
from kinshop.payments.models import Payment
from kinshop.trust import services as trust


def _screen(order_ids: Iterable[int]) -> None:
    for order_id in sorted(set(order_ids)):
        trust.screen_paid_order(order_id=order_id)


def _screen_if_captured(payment: Payment) -> Payment:
    """Screen the order a capture has just paid, with the row the capture locked
    (already screened when the payment was captured before: nothing new)."""
    if payment.status == Payment.Status.CAPTURED:
        order = payment.order if Payment.order.is_cached(payment) else None
        trust.screen_paid_order(order_id=payment.order_id, order=order)
    return payment


def confirm_sandbox_payment(*, user, payment_id: int, payer_id: str = "") -> Payment:
    """The sandbox bank says the payer paid (see `payments.sandbox_confirm`)."""
    return _screen_if_captured(
        payments.sandbox_confirm(user=user, payment_id=payment_id, payer_id=payer_id)
    )


def confirm_offline_payment(*, user, payment_id: int) -> Payment:
    """Supplier staff or an operator confirm an offline payment arrived."""
    return _screen_if_captured(payments.receive_offline(user=user, payment_id=payment_id))


def receive_webhook(*, provider: str, body: bytes, headers: dict[str, str]) -> int:
    """A provider's signed notification; answers how many events were new."""
    receipt = payments.receive_webhook(provider=provider, body=body, headers=headers)
    _screen(receipt.paid_order_ids)
    return receipt.applied
