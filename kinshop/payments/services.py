"""Use cases of payments: start a payment, take a provider's signed
notification, capture exactly once, refund through the provider that took the
money. The only writers of payments.

Payments orchestrate: a capture marks the order paid (orders) and then books the
split (ledger); an approved refund is decided by orders, recorded here as one
provider refund per payment it goes back through (a pre-sale's balance, then
its deposit), each carried out after commit by the task worker; when all are
settled, the refund completes in orders for what went back (a failed rest
becomes a failed refund of its own) and its split is reversed in the ledger,
once. Nothing below payments calls back up.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from kinshop.accounts import rules as accounts_rules
from kinshop.core import clock, rows
from kinshop.core import tasks as outbox
from kinshop.core.errors import Conflict, InvalidInput, NotFound
from kinshop.core.statemachine import record_creation, transition, transition_all
from kinshop.ledger import services as ledger
from kinshop.orders import queries as order_queries
from kinshop.orders import services as orders
from kinshop.orders.models import Order, Refund
from kinshop.payments import rules, tasks
from kinshop.payments.models import Payment, ProviderRefund, WebhookEvent
from kinshop.payments.providers import base, get_provider, sandbox

log = logging.getLogger(__name__)


def _new_reference(prefix: str) -> str:
    return f"{prefix}{clock.now():%Y%m%d}{secrets.token_hex(8)}"


def start_payment(*, user, order_id: int, provider: str) -> Payment:
    """The buyer starts paying an order that awaits payment, before its deadline.
    The payment is recorded here; where to pay comes from the provider in
    `open_payment`, after commit, with no row locked (or here, from a provider
    that answers without a call out: the sandbox)."""
    order = order_queries.order_for(user, order_id, as_="buyer", lock=True)
    now = clock.now()
    purpose = _purpose_now(order, now)
    gateway = get_provider(provider)  # refuses a provider that is unknown or switched off
    payment = Payment(
        order=order,
        provider=provider,
        amount=order.amount_due,
        purpose=purpose,
        currency=order.currency,
        reference=_new_reference("P"),
        created_at=now,
    )
    if getattr(gateway, "answers_locally", False):  # no network: no need to wait for commit
        started = gateway.start_payment(
            reference=payment.reference,
            amount=payment.amount,
            currency=payment.currency,
            description=f"Kinshop order {order.pk}",
        )
        payment.pay_url = started.pay_url
        payment.provider_transaction_id = started.provider_transaction_id
    payment.save(force_insert=True)
    record_creation(payment, actor=user, reason="started", at=now)
    return payment


def _purpose_now(order: Order, now: dt.datetime) -> str:
    """What a payment started now pays: the whole order, or a pre-sale's
    deposit (before the payment deadline) or balance (inside its window)."""
    if order.status == Order.Status.AWAITING_BALANCE:
        if order.balance_starts_at and now < order.balance_starts_at:
            raise Conflict(
                "The balance cannot be paid yet.",
                code="balance_not_open",
                opens_at=order.balance_starts_at.isoformat(),
            )
        if not order.balance_ends_at or order.balance_ends_at <= now:
            raise Conflict("The time to pay the balance has passed.", code="balance_closed")
        return Payment.Purpose.BALANCE
    if order.status != Order.Status.PENDING_PAYMENT:
        raise Conflict(f"This order is {order.status}: nothing to pay.", code="invalid_transition")
    if order.payment_deadline <= now:
        raise Conflict("The payment deadline has passed.", code="payment_deadline_passed")
    return Payment.Purpose.DEPOSIT if order.is_presale else Payment.Purpose.FULL


def open_payment(*, payment_id: int, payment: Payment | None = None) -> Payment:
    """Ask the provider where the payer goes to pay (a WeChat Pay code URL, the
    sandbox bank's page), outside any transaction: the provider answers one
    `reference` the same way however often it is asked. Once a payment has its
    URL, or is no longer pending, nothing is asked. `payment`: the payment as
    the caller's committed transaction created it, which then is not read again."""
    outbox.ensure_outside_transaction("asking a payment provider where to pay")
    if payment is None or payment.pk != payment_id:  # else: just created and committed
        payment = Payment.objects.get(pk=payment_id)
    if payment.pay_url or payment.status != Payment.Status.PENDING:
        return payment
    started = get_provider(payment.provider, must_be_enabled=False).start_payment(
        reference=payment.reference,
        amount=payment.amount,
        currency=payment.currency,
        description=f"Kinshop order {payment.order_id}",
    )
    if Payment.objects.filter(pk=payment.pk, pay_url="").update(
        pay_url=started.pay_url, provider_transaction_id=started.provider_transaction_id
    ):
        payment.pay_url = started.pay_url
        payment.provider_transaction_id = started.provider_transaction_id
    else:
        payment.refresh_from_db()  # another request opened it first
    return payment


def visible_payment(user, payment_id: int) -> Payment:
    payment = Payment.objects.select_related("order").filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.", code="payment_not_found")
    if _is_buyer_or_operator(user, payment.order):
        return payment  # known from the row just read
    if not order_queries.can_see_order(user, payment.order_id):
        raise NotFound("No such payment.", code="payment_not_found")
    return payment


def _is_buyer_or_operator(user, order: Order) -> bool:
    return bool(user.is_authenticated) and (order.buyer_id == user.id or user.is_staff)


# ---- notifications -------------------------------------------------------------


@dataclass(frozen=True)
class WebhookReceipt:
    """What a provider's notification did: how many of its events were new, and
    the orders they paid (for the layers above, which look at a paid order)."""

    applied: int
    paid_order_ids: tuple[int, ...]


def handle_webhook(*, provider: str, body: bytes, headers: dict[str, str]) -> int:
    """`receive_webhook`, answering how many events were new."""
    return receive_webhook(provider=provider, body=body, headers=headers).applied


def receive_webhook(*, provider: str, body: bytes, headers: dict[str, str]) -> WebhookReceipt:
    """Verify a provider's notification and apply it. Duplicates and replays
    change nothing; events may come in any order (a refund before its capture is
    applied as capture-then-refund)."""
    applied = 0
    paid: list[int] = []
    for notification in _parse_notifications(provider, body=body, headers=headers):
        if _record_event(provider, notification):
            payment = _apply(provider, notification)
            if payment is not None and payment.status == Payment.Status.CAPTURED:
                paid.append(payment.order_id)
            applied += 1
    return WebhookReceipt(applied=applied, paid_order_ids=tuple(paid))


def _parse_notifications(
    provider: str, *, body: bytes, headers: dict[str, str]
) -> list[base.Notification]:
    gateway = get_provider(provider, must_be_enabled=True)
    try:
        return list(gateway.parse_notification(body=body, headers=headers))
    except base.InvalidSignature as error:
        raise InvalidInput(
            f"The notification was refused: {error}.", code="invalid_signature"
        ) from None


def _record_event(provider: str, notification: base.Notification, *, is_new: bool = False) -> bool:
    """Record a provider's event once; False if it was recorded before. `is_new`
    when its id was made by the caller just now (the sandbox): then no savepoint
    guards its insert, as there is nothing to guard against."""
    event = WebhookEvent(
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
    if is_new:
        event.save(force_insert=True)
        return True
    try:
        with transaction.atomic():  # a delivered-again event fails here, alone
            event.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def _apply(provider: str, notification: base.Notification) -> Payment | None:
    """Apply one new event; a capture answers its payment."""
    if notification.kind == base.PAYMENT_SUCCEEDED:
        return capture(
            provider=provider,
            reference=notification.payment_reference,
            amount=notification.amount,
            transaction_id=notification.transaction_id,
            payer_id=notification.payer_id,
        )
    elif notification.kind == base.REFUND_SUCCEEDED:
        _refund_succeeded(provider, notification)
    elif notification.kind == base.REFUND_FAILED:
        provider_refund = ProviderRefund.objects.filter(
            reference=notification.refund_reference
        ).first()
        if provider_refund is not None:
            _mark_refund_failed(provider_refund.pk, error="the provider reported the refund failed")
    return None


def capture(
    *, provider: str, reference: str, amount: int, transaction_id: str = "", payer_id: str = ""
) -> Payment:
    """The provider has the buyer's money. Capture once: the order becomes paid
    (a sharer linked to the payer's account earns nothing on it) and the ledger
    splits it. Money that arrives for an order that can no longer
    take it (cancelled at its deadline, or paid already) goes straight back."""
    order, payments = _lock_order_and_payments(
        "payment.reference = %s AND payment.provider = %s", [reference, provider]
    )
    payment = next(
        (p for p in payments if (p.reference, p.provider) == (reference, provider)), None
    )
    if order is None or payment is None:
        raise NotFound("No such payment.", code="payment_not_found")
    return _capture_locked(
        order=order,
        payment=payment,
        payments=payments,
        amount=amount,
        transaction_id=transaction_id,
        payer_id=payer_id,
    )


def _lock_order_and_payments(where: str, params: list) -> tuple[Order | None, list[Payment]]:
    """The order of the payment matching `where` (SQL on its row, `payment`),
    locked (one statement: found through the payment and locked), then all its
    payments, locked: order before payment, always, and read after the order's
    lock so that they are current. Both written out: every capture starts here."""
    table = Payment._meta.db_table
    order = order_queries.lock_order_or_none(
        (f"(SELECT payment.order_id FROM {table} payment WHERE {where})", params)
    )
    if order is None:
        return None, []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(Payment, 'payment')} FROM {table} payment"
            f" WHERE payment.order_id = %s ORDER BY payment.id{rows.for_update()}",
            [order.pk],
        )
        return order, [rows.instance(Payment, row) for row in cursor.fetchall()]


def _capture_locked(
    *,
    order: Order,
    payment: Payment,
    payments: list[Payment],
    amount: int,
    transaction_id: str,
    payer_id: str = "",
) -> Payment:
    """capture's work, with the order and all its `payments` locked and read."""
    reference = payment.reference
    if payment.status in (Payment.Status.CAPTURED, Payment.Status.REFUNDED_LATE):
        return payment  # already applied
    now = clock.now()
    payment.provider_transaction_id = transaction_id or payment.provider_transaction_id
    payer = accounts_rules.payer_identifier(payment.provider, payer_id)
    is_deposit = payment.purpose == Payment.Purpose.DEPOSIT
    mark = orders.mark_deposit_paid if is_deposit else orders.mark_paid
    if amount != payment.amount or not mark(order=order, at=now, payer=payer):
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
        _record_provider_refund(payment=payment, amount=amount, refund=None, reason="order closed")
        return payment
    if is_deposit:
        # Held for the buyer until the balance completes the price.
        ledger.record_deposit(payment=payment)
    else:
        if payment.purpose == Payment.Purpose.BALANCE:
            # The deposit held joins the balance: the whole price is split once.
            ledger.record_deposit_applied(payment=_captured_deposit(payments))
        # The order has just become paid under its lock: it has no capture
        # entry yet (the ledger's unique index stays the last guard).
        ledger.record_capture(order=order, is_first=True)
    transition(
        payment,
        Payment.Status.CAPTURED,
        reason="captured",
        at=now,
        also=("provider_transaction_id",),
    )
    payment.order = order  # as captured, for the layers above that look at it
    # The order's other attempts can no longer be paid (the order's lock covers them).
    transition_all(
        [
            p
            for p in payments
            if p.status == Payment.Status.PENDING
            and p.pk != payment.pk
            and p.purpose == payment.purpose
        ],
        Payment.Status.CANCELLED,
        reason=f"order paid by {payment.reference}",
        at=now,
    )
    return payment


def _captured_deposit(payments: list[Payment]) -> Payment:
    return next(
        p
        for p in payments
        if p.purpose == Payment.Purpose.DEPOSIT and p.status == Payment.Status.CAPTURED
    )


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


def _lock_provider_refund(provider_refund_pk: int) -> ProviderRefund:
    """Order first, then the provider refund: the lock order every path follows."""
    order_id = (
        ProviderRefund.objects.filter(pk=provider_refund_pk)
        .values_list("payment__order_id", flat=True)
        .get()
    )
    order_queries.lock_order(order_id)
    return (
        ProviderRefund.objects.select_for_update()
        .select_related("payment")
        .get(pk=provider_refund_pk)
    )


def _mark_refund_succeeded(provider_refund_pk: int, *, provider_refund_id: str = "") -> None:
    """The money is back with the payer: settle the after-sales refund it is a
    part of (see `_settle_refund`), or close the books of a late payment or a
    lapsed deposit. Once: a part reported twice stops here."""
    provider_refund = _lock_provider_refund(provider_refund_pk)
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
        _settle_refund(provider_refund.refund_id)
    elif provider_refund.payment.status == Payment.Status.CAPTURED:
        # Only a pre-sale's deposit is refunded without an after-sales refund.
        ledger.record_deposit_refund(payment=provider_refund.payment)
    else:
        ledger.record_late_payment_refund(payment=provider_refund.payment)


def _mark_refund_failed(provider_refund_pk: int, *, error: str) -> None:
    provider_refund = _lock_provider_refund(provider_refund_pk)
    if provider_refund.status in (ProviderRefund.Status.SUCCEEDED, ProviderRefund.Status.FAILED):
        return
    provider_refund.last_error = error[:200]
    transition(provider_refund, ProviderRefund.Status.FAILED, reason=error, also=("last_error",))
    if provider_refund.refund_id:
        _settle_refund(provider_refund.refund_id)


def _settle_refund(refund_id: int) -> None:
    """Once the last part of an after-sales refund is settled (one per payment it
    was sent through): all back, the refund completes and its split is reversed;
    none back, it fails; some back, it completes for what went back (its split
    reversed pro rata to that) and the rest becomes a failed refund of its own,
    taking the failed parts with it. The caller holds the order's lock and has
    just settled one part, so exactly one part's settling sees the last."""
    parts = list(ProviderRefund.objects.filter(refund_id=refund_id).values_list("status", "amount"))
    settled = (ProviderRefund.Status.SUCCEEDED, ProviderRefund.Status.FAILED)
    if any(status not in settled for status, _ in parts):
        return  # another part of the refund is still on its way
    returned = sum(amount for status, amount in parts if status == ProviderRefund.Status.SUCCEEDED)
    if returned == 0:
        orders.fail_refund(refund_id=refund_id)
        return
    if returned == sum(amount for _, amount in parts):
        refund, allocations = orders.complete_refund(refund_id=refund_id)
    else:
        refund, allocations, failed = orders.complete_refund_in_part(
            refund_id=refund_id, returned=returned
        )
        ProviderRefund.objects.filter(
            refund_id=refund_id, status=ProviderRefund.Status.FAILED
        ).update(refund=failed)
    ledger.record_refund(refund=refund, allocations=allocations)


# ---- refunds -------------------------------------------------------------------


def _record_provider_refund(
    *, payment: Payment, amount: int, refund: Refund | None, reason: str
) -> ProviderRefund:
    """Record a refund through the provider in the caller's transaction (the
    outbox); the task worker sends it after commit. No HTTP call here: the
    caller holds the order's lock."""
    now = clock.now()
    provider_refund = ProviderRefund.objects.create(
        payment=payment,
        refund=refund,
        amount=amount,
        reason=reason[:80],
        reference=_new_reference("R"),
        created_at=now,
        # If nobody has carried it out by then (the process that should have
        # died), the `retry_refunds` job hands it to the worker again.
        next_attempt_at=now + dt.timedelta(seconds=rules.retry_delay_seconds(1)),
    )
    record_creation(provider_refund, reason=reason, at=now)
    outbox.record(tasks.send_provider_refund, provider_refund.pk)
    return provider_refund


def approve_refund(*, user, refund_id: int, restock: bool = False, note: str = "") -> Refund:
    """The supplier's staff (or the operator, overriding) approve a refund: orders
    decides it, and the money goes back through the provider that took the
    order's money, sent by the task worker after commit (through both payments
    of a pre-sale when one cannot carry it: see `_record_refund_parts`)."""
    refund = orders.approve_refund(user=user, refund_id=refund_id, restock=restock, note=note)
    _record_refund_parts(refund)
    return refund


def send_approved_refund(*, refund: Refund) -> list[ProviderRefund]:
    """A refund that orders approved by itself (a member of a failed group is
    refunded in full): the money goes back through the provider that took it,
    sent by the task worker after commit, like any approved refund."""
    return _record_refund_parts(refund)


# Which captured payment a refund draws on first: a pre-sale's balance, then its
# deposit (an order paid at once has its one payment).
_DRAW_ORDER: dict[str, int] = {
    Payment.Purpose.FULL: 0,
    Payment.Purpose.BALANCE: 0,
    Payment.Purpose.DEPOSIT: 1,
}


def _record_refund_parts(refund: Refund) -> list[ProviderRefund]:
    """Record the provider refunds that carry an approved refund, in the
    caller's transaction (which holds the order's lock): one per captured
    payment it needs, as `rules.split_refund` divides it over what is left on
    each (a pre-sale's balance first, then its deposit). Each is sent by the
    task worker after commit; the refund is settled once all of them are."""
    payments = sorted(
        Payment.objects.filter(order_id=refund.order_id, status=Payment.Status.CAPTURED).annotate(
            sent=Coalesce(
                Sum("refunds__amount", filter=~Q(refunds__status=ProviderRefund.Status.FAILED)),
                0,
            )
        ),
        key=lambda payment: (_DRAW_ORDER.get(payment.purpose, 0), -payment.pk),
    )
    if not payments:
        raise Conflict("This order has no captured payment to refund.", code="not_paid")
    left = [(payment, payment.amount - payment.sent) for payment in payments]  # type: ignore[attr-defined]
    parts = rules.split_refund(refund.amount, left)
    if parts is None:
        # More than all the order's payments still hold (the request checked
        # its lines; money went back since, through a refund that failed in
        # part): what the request's own over-refund check answers.
        refundable = sum(max(available, 0) for _, available in left)
        raise InvalidInput(
            f"At most {refundable} fen can still be refunded through this order's payments.",
            code="refund_exceeds_paid",
            refundable=refundable,
        )
    return [
        _record_provider_refund(payment=payment, amount=amount, refund=refund, reason=refund.reason)
        for payment, amount in parts
    ]


def refund_lapsed_deposits(*, now: dt.datetime, limit: int = 200) -> int:
    """Job: a pre-sale order whose balance was not paid by the end of its
    window is cancelled and its deposit goes back through the provider (sent
    by the worker after commit; the ledger reverses the deposit when the
    provider confirms). Idempotent: an order is lapsed once, under its lock, so
    a balance captured first leaves it alone, and a balance arriving after it
    is refunded as a late payment."""
    done = 0
    for order_id in orders.unpaid_balances_due(now=now, limit=limit):
        if not orders.lapse_unpaid_balance(order_id=order_id, at=now):
            continue
        deposit = Payment.objects.get(
            order_id=order_id, purpose=Payment.Purpose.DEPOSIT, status=Payment.Status.CAPTURED
        )
        _record_provider_refund(
            payment=deposit, amount=deposit.amount, refund=None, reason="balance not paid in time"
        )
        done += 1
    return done


def send_provider_refund(*, provider_refund_id: int) -> str:
    """Carry out a recorded provider refund: the task's body, run outside any
    transaction. The call goes out with no row locked; a call that fails is
    retried after a growing delay, up to `KINSHOP_REFUND_ATTEMPTS` attempts.
    Safe to run twice: the provider refunds one `reference` once, and the outcome
    is recorded once. Returns the provider refund's status."""
    with transaction.atomic():
        provider_refund = (
            ProviderRefund.objects.select_for_update()
            .select_related("payment")
            .filter(pk=provider_refund_id)
            .first()
        )
        if provider_refund is None:
            return "missing"
        if provider_refund.status != ProviderRefund.Status.PENDING:
            return provider_refund.status
        provider_refund.attempts += 1
        # A lease: if this process dies before it records the outcome, the job
        # hands the refund to a worker again once this moment has passed.
        provider_refund.next_attempt_at = clock.now() + dt.timedelta(
            seconds=rules.retry_delay_seconds(provider_refund.attempts + 1)
        )
        provider_refund.save(update_fields=["attempts", "next_attempt_at"])
    payment = provider_refund.payment
    outbox.ensure_outside_transaction("sending a refund to a payment provider")
    try:
        sent = get_provider(payment.provider, must_be_enabled=False).send_refund(
            payment_reference=payment.reference,
            refund_reference=provider_refund.reference,
            amount=provider_refund.amount,
            total=payment.amount,
            reason=provider_refund.reason,
        )
    except Exception as error:
        log.warning(
            "refund %s: attempt %s failed: %s",
            provider_refund.reference,
            provider_refund.attempts,
            error,
        )
        with transaction.atomic():
            if provider_refund.attempts >= settings.KINSHOP_REFUND_ATTEMPTS:
                _mark_refund_failed(provider_refund.pk, error=str(error))
                return ProviderRefund.Status.FAILED
            ProviderRefund.objects.filter(pk=provider_refund.pk).update(last_error=str(error)[:200])
            outbox.record_later(
                tasks.send_provider_refund,
                dt.datetime.now(dt.UTC)
                + dt.timedelta(seconds=rules.retry_delay_seconds(provider_refund.attempts)),
                provider_refund.pk,
            )
        return ProviderRefund.Status.PENDING
    _crash_point("after_provider_refund")
    with transaction.atomic():
        if sent.succeeded:
            _mark_refund_succeeded(provider_refund.pk, provider_refund_id=sent.provider_refund_id)
            return ProviderRefund.Status.SUCCEEDED
        provider_refund = _lock_provider_refund(provider_refund.pk)
        if provider_refund.status == ProviderRefund.Status.PENDING:
            provider_refund.provider_refund_id = sent.provider_refund_id
            transition(
                provider_refund,
                ProviderRefund.Status.SENT,
                reason="accepted by the provider",
                also=("provider_refund_id",),
            )
        return provider_refund.status


def retry_due_refunds(*, now: dt.datetime, limit: int = 500) -> int:
    """Job: provider refunds still to send whose moment has come (a retry's delay
    passed, or the process that was sending one died) go to the worker again.
    Idempotent: each is pushed back by its next delay as it is handed over."""
    due = list(
        ProviderRefund.objects.select_for_update(skip_locked=True)
        .filter(status=ProviderRefund.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")[:limit]
    )
    for provider_refund in due:
        provider_refund.next_attempt_at = now + dt.timedelta(
            seconds=rules.retry_delay_seconds(provider_refund.attempts + 1)
        )
        outbox.record_later(tasks.send_provider_refund, None, provider_refund.pk)
    ProviderRefund.objects.bulk_update(due, ["next_attempt_at"])
    return len(due)


def _crash_point(name: str) -> None:
    """Where a test kills the worker (`KINSHOP_CRASH_AT=after_provider_refund`):
    the provider has refunded and nothing is recorded yet."""
    if os.environ.get("KINSHOP_CRASH_AT") == name:
        os._exit(137)


# ---- sandbox and offline -------------------------------------------------------


def sandbox_confirm(*, user, payment_id: int, payer_id: str = "") -> Payment:
    """The sandbox 'bank' says the payer paid (from the bank account `payer_id`,
    if given): a signed notification goes through the same webhook path as a
    real provider's."""
    if not get_provider("sandbox", must_be_enabled=False).is_enabled():
        raise NotFound("The payment sandbox is off.", code="sandbox_disabled")
    # The capture's own locked reads come first (order, then its payments), so
    # that checking who asks costs nothing more.
    order, payments = _lock_order_and_payments("payment.id = %s", [payment_id])
    payment = next((p for p in payments if p.pk == payment_id), None)
    if order is None or payment is None:
        raise NotFound("No such payment.", code="payment_not_found")
    if not _is_buyer_or_operator(user, order):
        if not order_queries.can_see_order(user, order.pk):
            raise NotFound("No such payment.", code="payment_not_found")
        order_queries.order_for(user, order.pk, as_="buyer_or_operator")  # refuses: 403
    if payment.provider != "sandbox":
        raise Conflict("This is not a sandbox payment.", code="not_sandbox_payment")
    body = sandbox.payment_notification(
        reference=payment.reference, amount=payment.amount, payer_id=payer_id
    )
    # The signed notification is verified and recorded like any provider's.
    [notification] = _parse_notifications(
        "sandbox", body=body, headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
    )
    _record_event("sandbox", notification, is_new=True)  # its id was made just now
    return _capture_locked(
        order=order,
        payment=payment,
        payments=payments,
        amount=notification.amount,
        transaction_id=notification.transaction_id,
        payer_id=notification.payer_id,
    )


def receive_offline(*, user, payment_id: int) -> Payment:
    """Supplier staff or an operator confirm that an offline payment arrived."""
    payment = visible_payment(user, payment_id)
    if payment.provider != "offline":
        raise Conflict("This is not an offline payment.", code="not_offline_payment")
    order_queries.order_for(user, payment.order_id, as_="supplier_or_operator")
    return capture(provider="offline", reference=payment.reference, amount=payment.amount)
