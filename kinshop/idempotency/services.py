"""`Idempotency-Key` for the POSTs that create orders, payments, refunds and
withdrawals: a repeat with the same key and body returns the first answer and
changes nothing; the same key with another body is a 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from kinshop.core.errors import Conflict, DomainError, InvalidInput
from kinshop.idempotency.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def run_once(
    *, user, operation: str, key: str | None, payload: Any, action: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run `action` (which returns a status and a JSON-able body) once per key,
    in one transaction that this function opens.

    The key's row is inserted with the answer, as the last statement of the
    work (one INSERT, where an insert and then an update would take two). A
    repeat made after the first committed does the work again and then fails,
    on the unique index or on what the first request changed (its stock, its
    order's status); a concurrent repeat waits on the unique index until the
    first commits. Either way the repeat's work is rolled back and it answers
    with the first answer. A failed request leaves no row: it may be retried.
    """
    if not key:
        with transaction.atomic():
            return action()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput("The Idempotency-Key is not valid.", code="invalid_idempotency_key")
    fingerprint = request_hash(payload)
    try:
        with transaction.atomic():
            status, body = action()
            IdempotencyRecord.objects.create(
                user=user,
                operation=operation,
                key=key,
                request_hash=fingerprint,
                status_code=status,
                response=body,
            )
        return status, body
    except (IntegrityError, DomainError):
        # Rolled back. A repeat of a request that has an answer takes it;
        # anything else was a genuine failure of this request.
        record = IdempotencyRecord.objects.filter(user=user, operation=operation, key=key).first()
        if record is None:
            raise
    if record.request_hash != fingerprint:
        raise Conflict(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
        ) from None
    return record.status_code, record.response
