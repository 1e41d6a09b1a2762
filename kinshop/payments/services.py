"""Use cases of payments: start a payment, take a provider's signed
notification, capture exactly once, refund through the provider that took the
money. The only writers of payments."""

from __future__ import annotations

import logging
import secrets

from django.db import IntegrityError, transaction

from kinshop.core import clock
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.core.statemachine import record_creation, transition, transition_all
from kinshop.ledger import services as ledger
from kinshop.orders import queries as order_queries
from kinshop.orders import services as orders
from kinshop.orders.models import Order, Refund
from kinshop.payments.models import Payment, ProviderRefund, WebhookEvent
from kinshop.payments.providers import base, get_provider, sandbox

log = logging.getLogger(__name__)


def _new_reference(prefix: str) -> str:
    return f"{prefix}{clock.now():%Y%m%d}{secrets.token_hex(8)}"


def start_payment(*, user, order_id: int, provider: str) -> Payment:
    """The buyer starts paying an order that awaits payment, before its deadline."""
    order = order_queries.lock_order(order_id)
    if order.buyer_id != user.id:
        if order_queries.can_see_order(user, order_id):
            raise Forbidden("Only the buyer can pay this order.", code="not_buyer")
        raise NotFound("No such order.", code="order_not_found")
    if order.status != Order.Status.PENDING_PAYMENT:
        raise Conflict(f"This order is {order.status}: nothing to pay.", code="invalid_transition")
    now = clock.now()
    if order.payment_deadline <= now:
        raise Conflict("The payment deadline has passed.", code="payment_deadline_passed")
    gateway = get_provider(provider)
    payment = Payment(
        order=order,
        provider=provider,
        amount=order.total,
        currency=order.currency,
        reference=_new_reference("P"),
        created_at=now,
    )
    started = gateway.start_payment(
        reference=payment.reference,
        amount=payment.amount,
        currency=payment.currency,
        description=f"Kinshop order {order.pk}",
    )
    payment.pay_url = started.pay_url
    payment.provider_transaction_id = started.provider_transaction_id
    payment.save()
    record_creation(payment, actor=user, reason="started", at=now)
    return payment


def visible_payment(user, payment_id: int) -> Payment:
    payment = Payment.objects.select_related("order").filter(pk=payment_id).first()
    if payment is None or not order_queries.can_see_order(user, payment.order_id):
        raise NotFound("No such payment.", code="payment_not_found")
    return payment


# ---- notifications -------------------------------------------------------------


def handle_webhook(*, provider: str, body: bytes, headers: dict[str, str]) -> int:
    """Verify a provider's notification and apply it. Returns how many events
    were new. Duplicates and replays change nothing; events may come in any
    order (a refund before its capture is applied as capture-then-refund)."""
    gateway = get_provider(provider, must_be_enabled=True)
    try:
        notifications = gateway.parse_notification(body=body, headers=headers)
    except base.InvalidSignature as error:
        raise InvalidInput(
            f"The notification was refused: {error}.", code="invalid_signature"
        ) from None
    applied = 0
    for notification in notifications:
        if _record_event(provider, notification):
            _apply(provider, notification)
            applied += 1
    return applied


def _record_event(provider: str, notification: base.Notification) -> bool:
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                provider=provider,
                event_id=notification.event_id[:100],
                event_type=notification.kind,
                # What we acted on, not the raw body: that may carry the payer's identifiers.
                payload={
                    "kind": notification.kind,
                    "payment": notification.payment_reference,
                    "refund": notification.refund_reference,
                    "amount": notification.amount,
                    "transaction_id": notification.transaction_id,
                },
                received_at=clock.now(),
                processed_at=clock.now(),
            )
    except IntegrityError:
        return False
    return True


def _apply(provider: str, notification: base.Notification) -> None:
    if notification.kind == base.PAYMENT_SUCCEEDED:
        capture(
            provider=provider,
            reference=notification.payment_reference,
            amount=notification.amount,
            transaction_id=notification.transaction_id,
        )
    elif notification.kind == base.REFUND_SUCCEEDED:
        _refund_succeeded(provider, notification)
    elif notification.kind == base.REFUND_FAILED:
        provider_refund = (
            ProviderRefund.objects.select_for_update()
            .filter(reference=notification.refund_reference)
            .first()
        )
        if provider_refund and provider_refund.status == ProviderRefund.Status.PENDING:
            transition(
                provider_refund, ProviderRefund.Status.FAILED, reason="reported by the provider"
            )
            if provider_refund.refund_id:
                orders.fail_refund(refund_id=provider_refund.refund_id)


def capture(*, provider: str, reference: str, amount: int, transaction_id: str = "") -> Payment:
    """The provider has the buyer's money. Capture once: the order becomes paid
    and the ledger splits it. Money that arrives for an order that can no longer
    take it (cancelled at its deadline, or paid already) goes straight back."""
    payment = Payment.objects.filter(reference=reference, provider=provider).first()
    if payment is None:
        raise NotFound("No such payment.", code="payment_not_found")
    order = order_queries.lock_order(payment.order_id)  # order before payment, always
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status in (Payment.Status.CAPTURED, Payment.Status.REFUNDED_LATE):
        return payment  # already applied
    now = clock.now()
    payment.provider_transaction_id = transaction_id or payment.provider_transaction_id
    if amount != payment.amount or not orders.mark_paid(order=order, at=now):
        log.warning(
            "payment %s arrived for order %s (%s): refunding it", reference, order.pk, order.status
        )
        reason = "order closed" if amount == payment.amount else "wrong amount"
        payment.amount = amount
        transition(
            payment,
            Payment.Status.REFUNDED_LATE,
            reason=reason,
            at=now,
            also=("amount", "provider_transaction_id"),
        )
        ledger.record_late_payment(payment=payment)
        _send_provider_refund(payment=payment, amount=amount, refund=None, reason="order closed")
        return payment
    transition(
        payment,
        Payment.Status.CAPTURED,
        reason="captured",
        at=now,
        also=("provider_transaction_id",),
    )
    # The order's other attempts can no longer be paid (the order's lock covers them).
    transition_all(
        list(
            Payment.objects.filter(order=order, status=Payment.Status.PENDING).exclude(
                pk=payment.pk
            )
        ),
        Payment.Status.CANCELLED,
        reason=f"order paid by {payment.reference}",
        at=now,
    )
    return payment


def _refund_succeeded(provider: str, notification: base.Notification) -> None:
    provider_refund = ProviderRefund.objects.filter(reference=notification.refund_reference).first()
    if provider_refund is None:
        # The provider can answer before the transaction that asked for this
        # refund has committed. Refuse the notification (the event is rolled
        # back with it) so that the provider delivers it again.
        log.warning(
            "refund %s from %s not known yet: asking for redelivery",
            notification.refund_reference,
            provider,
        )
        raise Conflict(
            "This refund is not known yet; deliver the notification again.", code="unknown_refund"
        )
    payment = provider_refund.payment
    if payment.status not in (Payment.Status.CAPTURED, Payment.Status.REFUNDED_LATE):
        capture(provider=provider, reference=payment.reference, amount=payment.amount)
    _mark_refund_succeeded(provider_refund.pk, provider_refund_id=notification.provider_refund_id)


def _mark_refund_succeeded(provider_refund_pk: int, *, provider_refund_id: str = "") -> None:
    provider_refund = ProviderRefund.objects.select_for_update().get(pk=provider_refund_pk)
    if provider_refund.status == ProviderRefund.Status.SUCCEEDED:
        return
    provider_refund.provider_refund_id = provider_refund_id or provider_refund.provider_refund_id
    transition(
        provider_refund,
        ProviderRefund.Status.SUCCEEDED,
        reason="reported by the provider",
        also=("provider_refund_id",),
    )
    if provider_refund.refund_id:
        orders.complete_refund(refund_id=provider_refund.refund_id)
    else:
        ledger.record_late_payment_refund(payment=provider_refund.payment)


# ---- refunds -------------------------------------------------------------------


def _send_provider_refund(
    *, payment: Payment, amount: int, refund: Refund | None, reason: str
) -> None:
    provider_refund = ProviderRefund.objects.create(
        payment=payment,
        refund=refund,
        amount=amount,
        reference=_new_reference("R"),
        created_at=clock.now(),
    )
    record_creation(provider_refund, reason=reason, at=provider_refund.created_at)
    sent = get_provider(payment.provider, must_be_enabled=False).send_refund(
        payment_reference=payment.reference,
        refund_reference=provider_refund.reference,
        amount=amount,
        total=payment.amount,
        reason=reason[:80],
    )
    provider_refund.provider_refund_id = sent.provider_refund_id
    provider_refund.save(update_fields=["provider_refund_id"])
    if sent.succeeded:
        _mark_refund_succeeded(provider_refund.pk)


def send_refund(*, refund: Refund) -> None:
    """Send an approved after-sales refund back through the provider that took
    the order's money. Providers that refund at once complete it now; others
    complete it when their notification arrives."""
    payment = Payment.objects.filter(
        order_id=refund.order_id, status=Payment.Status.CAPTURED
    ).first()
    if payment is None:
        raise Conflict("This order has no captured payment to refund.", code="not_paid")
    _send_provider_refund(
        payment=payment, amount=refund.amount, refund=refund, reason=refund.reason
    )


# ---- sandbox and offline -------------------------------------------------------


def sandbox_confirm(*, user, payment_id: int) -> Payment:
    """The sandbox 'bank' says the payer paid: a signed notification goes
    through the same webhook path as a real provider's."""
    if not get_provider("sandbox", must_be_enabled=False).is_enabled():
        raise NotFound("The payment sandbox is off.", code="sandbox_disabled")
    payment = visible_payment(user, payment_id)
    if payment.provider != "sandbox":
        raise Conflict("This is not a sandbox payment.", code="not_sandbox_payment")
    if payment.order.buyer_id != user.id and not user.is_staff:
        raise Forbidden("Only the buyer can pay.", code="not_buyer")
    body = sandbox.payment_notification(reference=payment.reference, amount=payment.amount)
    handle_webhook(
        provider="sandbox", body=body, headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
    )
    payment.refresh_from_db()
    return payment


def receive_offline(*, user, payment_id: int) -> Payment:
    """Supplier staff or an operator confirm that an offline payment arrived."""
    payment = visible_payment(user, payment_id)
    if payment.provider != "offline":
        raise Conflict("This is not an offline payment.", code="not_offline_payment")
    supplier_ids = set(order_queries.supplier_ids_of(user))
    order_suppliers = set(payment.order.fulfilments.values_list("supplier_id", flat=True))
    if not (user.is_staff or supplier_ids & order_suppliers):
        raise Forbidden("Only the supplier's staff or an operator can confirm.", code="not_allowed")
    return capture(provider="offline", reference=payment.reference, amount=payment.amount)
