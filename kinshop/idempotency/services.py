"""`Idempotency-Key` for the POSTs that create orders, payments, refunds and
withdrawals: a repeat with the same key and body returns the first answer and
changes nothing; the same key with another body is a 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from kinshop.core.errors import Conflict, InvalidInput
from kinshop.idempotency.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def run_once(
    *, user, operation: str, key: str | None, payload: Any, action: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run `action` (which returns a status and a JSON-able body) once per key.

    Call it inside the request's transaction. The key's row is inserted before
    the work is done, so a concurrent repeat waits on the unique index until the
    first request commits (then answers with its result) or rolls back (then
    does the work itself). A failed request leaves no row: it may be retried.
    """
    if not key:
        return action()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput("The Idempotency-Key is not valid.", code="invalid_idempotency_key")
    fingerprint = request_hash(payload)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=user, operation=operation, key=key, request_hash=fingerprint, status_code=0
            )
    except IntegrityError:
        record = IdempotencyRecord.objects.get(user=user, operation=operation, key=key)
        if record.request_hash != fingerprint:
            raise Conflict(
                "This Idempotency-Key was used with a different request.",
                code="idempotency_key_reused",
            ) from None
        return record.status_code, record.response
    status, body = action()
    record.status_code, record.response = status, body
    record.save(update_fields=["status_code", "response"])
    return status, body
